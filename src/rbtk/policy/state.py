"""What the policy remembers between inputs, and what it asks to have sent."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from rbtk.policy.rules import Rule
from rbtk.policy.severity import Severity


class Kind(StrEnum):
    POOL_OFFLINE = "pool_offline"
    EVIDENCE_FAIL = "evidence_fail"
    POSTRELEASE_FAIL = "postrelease_fail"
    STANDARD_AMENDMENT = "standard_amendment"
    TEST = "test"
    STORM = "storm"  # an umbrella incident for a storm (rbtk.outbox.storms), never a condition


class Action(StrEnum):
    TRIGGER = "trigger"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Condition:
    """A problem the policy is watching, keyed by its dedup key.

    `fired` are the rules that have triggered for it, each once; `rule` and `severity` are
    the most severe of them (None while no threshold has passed yet); `due_at` is when the
    policy must look at it again without any new event; `started_by` is the event that
    opened it (None for one stored before rbtk kept it), whose page a later tick sends.
    """

    key: str
    kind: Kind
    project_slug: str
    since: datetime
    details: Mapping[str, Any]
    rule: Rule | None = None
    severity: Severity | None = None
    due_at: datetime | None = None
    fired: frozenset[Rule] = frozenset()
    started_by: str | None = None


@dataclass(frozen=True)
class Release:
    tag: str
    published_at: datetime


ReleaseKey = tuple[str, str]  # (project_slug, branch)


@dataclass(frozen=True)
class State:
    """The slice of remembered state an input needs (see engine.scope)."""

    conditions: Mapping[str, Condition] = field(default_factory=dict)
    releases: Mapping[ReleaseKey, Release] = field(default_factory=dict)


@dataclass(frozen=True)
class Notification:
    action: Action
    dedup_key: str
    kind: Kind
    rule: Rule | None
    severity: Severity
    summary: str
    project_slug: str
    at: datetime
    details: Mapping[str, Any]
    # The event that caused it; for a threshold passing on a clock tick, the event that
    # started the condition (None if unknown).
    event_id: str | None = None
    event_type: str | None = None


@dataclass(frozen=True)
class Tick:
    """The clock reached `now`: fire whatever is due."""


@dataclass(frozen=True)
class Outcome:
    state: State
    notifications: list[Notification]
    # Why each event (by id) paged nothing, or less than it might: "pull request #42: runs
    # on pull requests never page", "pending (pool_offline): offline for 7 min: …".
    reasons: Mapping[str, list[str]] = field(default_factory=dict)

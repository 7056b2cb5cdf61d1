"""Platform events on a virtual clock, built through the real parser, and a policy runner.

Every builder returns an `Event` made by `parse_event` from the JSON shape the platform
documents, so the policy tests also exercise what ingest will hand the policy.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from rbtk.policy.engine import Input, apply
from rbtk.policy.events import Event, parse_event
from rbtk.policy.rules import PolicyConfig
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Notification, State, Tick
from rbtk.routing.lanes import Audience, admits
from rbtk.runtime.timefmt import format_rfc3339

T0 = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)
PROJECT = "warehouse"

_ids = count(1)


def at(minutes: float = 0, *, seconds: float = 0) -> datetime:
    """A moment on the virtual clock: `minutes` (and `seconds`) after T0."""
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def event(
    event_type: str, data: dict[str, Any], *, occurred_at: datetime, project: str = PROJECT
) -> Event:
    return parse_event(
        {
            "id": f"evt-{next(_ids)}",
            "type": event_type,
            "project_slug": project,
            "occurred_at": format_rfc3339(occurred_at),
            "data": data,
        }
    )


def pool_offline(
    pool: str,
    *,
    occurred_at: datetime,
    airgapped: bool = False,
    last_heartbeat_at: datetime | None = None,
    pool_type: str = "self-hosted",
    queued_jobs: int | None = 0,
    project: str = PROJECT,
) -> Event:
    return event(
        "runner_pool.offline",
        {
            "pool_name": pool,
            "pool_type": pool_type,
            "airgapped": airgapped,
            "last_heartbeat_at": None
            if last_heartbeat_at is None
            else format_rfc3339(last_heartbeat_at),
            "queued_jobs": queued_jobs,
        },
        occurred_at=occurred_at,
        project=project,
    )


def pool_online(pool: str, *, occurred_at: datetime, project: str = PROJECT) -> Event:
    return event(
        "runner_pool.online", {"pool_name": pool}, occurred_at=occurred_at, project=project
    )


def release(
    tag: str, *, occurred_at: datetime, branch: str = "main", project: str = PROJECT
) -> Event:
    return event(
        "release.published",
        {"tag": tag, "branch": branch},
        occurred_at=occurred_at,
        project=project,
    )


def evidence_failed(
    release_tag: str | None,
    *,
    occurred_at: datetime,
    error: str | None = "signing key unavailable",
    ref: str | None = "refs/tags/v1.4.0",
    project: str = PROJECT,
) -> Event:
    return event(
        "evidence_pack.generation_failed",
        {"release_tag": release_tag, "ref": ref, "error": error},
        occurred_at=occurred_at,
        project=project,
    )


def evidence_generated(
    release_tag: str | None,
    *,
    occurred_at: datetime,
    ref: str | None = "refs/tags/v1.4.0",
    project: str = PROJECT,
) -> Event:
    return event(
        "evidence_pack.generated",
        {"release_tag": release_tag, "ref": ref},
        occurred_at=occurred_at,
        project=project,
    )


def completed_run(
    tests: dict[str, str],
    *,
    occurred_at: datetime,
    run_id: str | int = "run-1",
    branch: str = "main",
    default_branch: bool = True,
    pull_request: int | None = None,
    status: str | None = None,
    project: str = PROJECT,
) -> Event:
    """A completed run; `tests` maps test id to status, `status` defaults from them."""
    if status is None:
        status = "failed" if any(s != "passed" for s in tests.values()) else "passed"
    return event(
        "test_run.completed",
        {
            "run_id": run_id,
            "branch": branch,
            "default_branch": default_branch,
            "pull_request": pull_request,
            "status": status,
            "tests": [{"id": test_id, "status": s} for test_id, s in tests.items()],
        },
        occurred_at=occurred_at,
        project=project,
    )


def amendment(
    standard: str,
    amendment_id: str,
    *,
    occurred_at: datetime,
    pinned: bool = True,
    title: str | None = "Functional safety, second amendment",
    url: str | None = "https://standards.example/iso-26262/a2",
    project: str = PROJECT,
) -> Event:
    return event(
        "standard.amendment_published",
        {
            "standard": standard,
            "amendment": amendment_id,
            "title": title,
            "url": url,
            "pinned": pinned,
        },
        occurred_at=occurred_at,
        project=project,
    )


def unknown(event_type: str, *, occurred_at: datetime, project: str = PROJECT) -> Event:
    return event(event_type, {"anything": [1, 2, 3]}, occurred_at=occurred_at, project=project)


@dataclass(frozen=True)
class Sent:
    """A notification reduced to what a page is made of, for exact comparisons."""

    action: str
    dedup_key: str
    severity: str
    summary: str
    at: datetime


def sent(notification: Notification) -> Sent:
    return Sent(
        notification.action.value,
        notification.dedup_key,
        notification.severity.value,
        notification.summary,
        notification.at,
    )


@dataclass
class Run:
    """The policy driven input by input on a virtual clock, as the service will drive it,
    and what one connector with `audience`'s toggles and cap is paged of it (its lanes)."""

    config: PolicyConfig = field(default_factory=PolicyConfig)
    audience: Audience = field(default_factory=Audience)
    state: State = field(default_factory=State)
    notifications: list[Notification] = field(default_factory=list)
    paged: list[Notification] = field(default_factory=list)
    lanes: dict[str, Severity] = field(default_factory=dict)

    def feed(self, now: datetime, *inputs: Input) -> list[Notification]:
        """Apply `inputs` one at a time at `now`; return what they caused."""
        caused: list[Notification] = []
        for item in inputs:
            outcome = apply(self.state, item, now, self.config)
            self.state = outcome.state
            caused.extend(outcome.notifications)
        self.notifications.extend(caused)
        for notification in caused:
            self._page(notification)
        return caused

    def _page(self, notification: Notification) -> None:
        key = notification.dedup_key
        if notification.action is Action.RESOLVE:
            if key in self.lanes:
                self.paged.append(replace(notification, severity=self.lanes.pop(key)))
            return
        severity = admits(notification, self.audience, self.lanes.get(key))
        if severity is not None:
            self.lanes[key] = severity
            self.paged.append(replace(notification, severity=severity))

    def tick(self, now: datetime) -> list[Notification]:
        return self.feed(now, Tick())

    def sent(self) -> list[Sent]:
        """What the connector was paged: each trigger it takes, each resolve of its lanes."""
        return [sent(n) for n in self.paged]


Setup = PolicyConfig | Audience


def run(
    steps: Iterable[tuple[datetime, Input | Sequence[Input]]],
    setup: Setup | None = None,
) -> Run:
    """Feed `(now, input or inputs)` steps in order; each event is fed at its `now`.

    `setup` is the policy's thresholds, or the toggles of the connector being paged."""
    runner = Run(setup) if isinstance(setup, PolicyConfig) else Run(audience=setup or Audience())
    for now, inputs in steps:
        if isinstance(inputs, Sequence):
            runner.feed(now, *inputs)
        else:
            runner.feed(now, inputs)
    return runner

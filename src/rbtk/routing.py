"""Which PagerDuty connectors a trigger goes to (a resolve goes wherever its trigger went).

Ordered rules match an event by project and event type (exact or glob); the first that
matches names the connectors; an event no rule matches goes to the default connectors.

The rules are written only as a whole ordered list (`replace_rules`), validated first, so a
bad list changes nothing. Errors, each a `RoutingError` whose message says what to do:

    RoutingError
      ├── InvalidRouting (also a ValueError) — the list is wrong; `errors` names each problem
      └── NoSuchPosition (also a LookupError) — add/remove/move named a position not there
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy import Connection, delete, insert, select

from rbtk.events import Event, RunnerPoolOffline, TestRunCompleted
from rbtk.policy.rules import EVENT_TYPE, SEVERITY, Rule
from rbtk.policy.severity import Severity, is_sent
from rbtk.policy.state import Notification
from rbtk.store.db import is_postgres
from rbtk.store.tables import connectors, routing_rules

MAX_PATTERN = 255


class RoutingError(Exception):
    pass


class InvalidRouting(RoutingError, ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class NoSuchPosition(RoutingError, LookupError):
    pass


@dataclass(frozen=True)
class Target:
    """A connector as delivery sees it: the key stays encrypted until the request is built."""

    id: int
    name: str
    routing_key: bytes
    key_fingerprint: str
    region: str
    rules: frozenset[Rule]
    send_info: bool
    is_default: bool
    max_severity: Severity | None = None


@dataclass(frozen=True)
class RouteRule:
    position: int
    project: str | None
    event_type: str | None
    connectors: tuple[str, ...]

    def matches(self, project: str, event_type: str) -> bool:
        return _match(self.project, project) and _match(self.event_type, event_type)


@dataclass(frozen=True)
class Decision:
    """Where an event goes and why: the rule that matched, or None for the defaults."""

    rule: RouteRule | None
    targets: list[Target]


def _match(pattern: str | None, value: str) -> bool:
    return pattern is None or fnmatchcase(value, pattern)


def load_targets(connection: Connection) -> list[Target]:
    rows = connection.execute(select(connectors).order_by(connectors.c.id))
    return [_target(row._mapping) for row in rows]


def load_rules(connection: Connection) -> list[RouteRule]:
    rows = connection.execute(select(routing_rules).order_by(routing_rules.c.position))
    return [RouteRule(r.position, r.project, r.event_type, tuple(r.connectors)) for r in rows]


def route(
    project: str, event_type: str, rules: Sequence[RouteRule], candidates: Sequence[Target]
) -> Decision:
    for rule in sorted(rules, key=lambda r: r.position):
        if rule.matches(project, event_type):
            return Decision(rule, [t for t in candidates if t.name in rule.connectors])
    return Decision(None, [t for t in candidates if t.is_default])


def targets(
    notification: Notification, rules: Sequence[RouteRule], candidates: Sequence[Target]
) -> list[Target]:
    """The connectors a trigger goes to: routed, with the rule switched on, info opted in."""
    if notification.rule is None:
        return []
    event_type = notification.event_type or EVENT_TYPE[notification.rule]
    routed = route(notification.project_slug, event_type, rules, candidates).targets
    return [
        t
        for t in routed
        if notification.rule in t.rules
        and is_sent(capped(notification.severity, t), send_info=t.send_info)
    ]


def capped(severity: Severity, target: Target) -> Severity:
    """A connector's severity cap: a staging service only ever gets low-urgency pages."""
    if target.max_severity is not None and severity > target.max_severity:
        return target.max_severity
    return severity


def _target(row: Any) -> Target:
    return Target(
        id=row["id"],
        name=row["name"],
        routing_key=row["routing_key"],
        key_fingerprint=row["key_fingerprint"],
        region=row["region"],
        rules=frozenset(Rule(r) for r in row["rules"] if r in Rule.__members__.values()),
        send_info=row["send_info"],
        is_default=row["is_default"],
        max_severity=Severity(row["max_severity"]) if row["max_severity"] else None,
    )


# writing the ordered list


def replace_rules(
    connection: Connection, rules: Sequence[RouteRule], *, now: datetime
) -> list[RouteRule]:
    """Validate the whole list, then make it the routing; a bad list changes nothing."""
    known = {row.name for row in connection.execute(select(connectors.c.name))}
    errors = rule_errors(rules, known, field="connectors", noun="connector", need_matcher=True)
    if errors:
        raise InvalidRouting(errors)
    lock_rules(connection, "routing_rules")
    connection.execute(delete(routing_rules))
    if rules:
        connection.execute(
            insert(routing_rules),
            [
                {
                    "position": rule.position,
                    "project": rule.project,
                    "event_type": rule.event_type,
                    "connectors": list(rule.connectors),
                    "created_at": now,
                }
                for rule in rules
            ],
        )
    return load_rules(connection)


def lock_rules(connection: Connection, table: str) -> None:
    """One writer of an ordered list at a time: two lists replacing each other at once would
    otherwise collide on their positions. (SQLite transactions already take the write lock.)"""
    if is_postgres(connection):
        connection.exec_driver_sql(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


def default_names(connection: Connection) -> list[str]:
    """The connectors that get what no rule matches."""
    rows = connection.execute(
        select(connectors.c.name)
        .where(connectors.c.is_default.is_(True))
        .order_by(connectors.c.name)
    )
    return [row.name for row in rows]


class Ordered(Protocol):
    """A rule of an ordered list (routing or notification rules): a frozen dataclass."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def position(self) -> int: ...

    @property
    def project(self) -> str | None: ...

    @property
    def event_type(self) -> str | None: ...


R = TypeVar("R", bound=Ordered)


def rule_errors(
    rules: Sequence[Ordered],
    known: set[str],
    *,
    field: str,
    noun: str,
    need_matcher: bool,
) -> list[str]:
    """Every problem in an ordered list whose rules name, in `field`, connectors or channels."""
    errors: list[str] = []
    counts: dict[int, int] = {}
    for rule in rules:
        counts[rule.position] = counts.get(rule.position, 0) + 1
    for position, count in sorted(counts.items()):
        if count > 1:
            errors.append(f"position {position}: used by {count} rules; positions must be unique")
    for rule in sorted(rules, key=lambda r: r.position):
        at = f"position {rule.position}"
        if rule.position < 1:
            errors.append(f"{at}: positions start at 1")
        project, event_type = rule.project, rule.event_type
        for label, what, pattern in (
            ("project", "project", project),
            ("event_type", "event type", event_type),
        ):
            if pattern is not None and not pattern.strip():
                errors.append(f"{at}: {label} is empty; leave it out to match every {what}")
            elif pattern is not None and len(pattern) > MAX_PATTERN:
                errors.append(f"{at}: {label} is over {MAX_PATTERN} characters")
        if need_matcher and project is None and event_type is None:
            errors.append(
                f"{at}: matches every event; give a project or an event type (events that no "
                "rule matches go to the default connectors)"
            )
        names: Sequence[str] = getattr(rule, field)
        if not names:
            errors.append(f"{at}: names no {noun}; give at least one")
        seen: set[str] = set()
        for name in names:
            if name in seen:
                errors.append(f"{at}: names {noun} {name!r} twice")
            elif name not in known:
                errors.append(f"{at}: no {noun} named {name!r}")
            seen.add(name)
    return errors


def renumbered(rules: Sequence[R]) -> list[R]:
    """The rules in their order, numbered 1, 2, 3..."""
    ordered = sorted(rules, key=lambda r: r.position)
    return [replace(rule, position=index) for index, rule in enumerate(ordered, start=1)]


def inserted(rules: Sequence[R], rule: R, *, position: int | None = None) -> list[R]:
    """The list with `rule` at `position` (the end when None), the rules after it moved down."""
    ordered = renumbered(rules)
    at = len(ordered) + 1 if position is None else position
    if not 1 <= at <= len(ordered) + 1:
        raise NoSuchPosition(f"position {at}: {_range(len(ordered) + 1, 'a new rule')}")
    ordered.insert(at - 1, rule)
    return [replace(r, position=i) for i, r in enumerate(ordered, start=1)]


def without(rules: Sequence[R], position: int) -> list[R]:
    ordered = renumbered(rules)
    if not 1 <= position <= len(ordered):
        raise NoSuchPosition(f"no rule at position {position}: {_range(len(ordered), 'a rule')}")
    del ordered[position - 1]
    return [replace(r, position=i) for i, r in enumerate(ordered, start=1)]


def moved(rules: Sequence[R], position: int, to: int) -> list[R]:
    ordered = renumbered(rules)
    if not 1 <= position <= len(ordered):
        raise NoSuchPosition(f"no rule at position {position}: {_range(len(ordered), 'a rule')}")
    if not 1 <= to <= len(ordered):
        raise NoSuchPosition(f"cannot move to position {to}: {_range(len(ordered), 'a rule')}")
    rule = ordered.pop(position - 1)
    ordered.insert(to - 1, rule)
    return [replace(r, position=i) for i, r in enumerate(ordered, start=1)]


def _range(last: int, what: str) -> str:
    if last == 0:
        return "there are no rules"
    if last == 1:
        return f"the only position for {what} is 1"
    return f"positions for {what} are 1 to {last}"


# explaining a decision without sending anything


@dataclass(frozen=True)
class Check:
    """Whether one routed connector would page for one of the event's paging rules."""

    connector: str
    rule: Rule
    enabled: bool  # the connector's toggle for the rule
    severity: Severity  # as it would be sent: after the connector's severity cap
    capped_from: Severity | None  # the rule's own severity, when the cap lowered it
    sent: bool  # enabled, and not info unless the connector opted in to info

    @property
    def note(self) -> str:
        if not self.enabled:
            return f"not sent: {self.rule} is switched off on {self.connector}"
        cap = f" (capped from {self.capped_from})" if self.capped_from else ""
        if not self.sent:
            return f"not sent: {self.severity}{cap}, and {self.connector} does not send info"
        return f"sent as {self.severity}{cap}"


@dataclass(frozen=True)
class Explanation:
    decision: Decision
    reason: str
    checks: list[Check]
    missing: list[str]  # connectors the matching rule names that no longer exist


def explain(connection: Connection, event: Event) -> Explanation:
    """Which rule an event matches and which connectors it would page; sends nothing."""
    candidates = load_targets(connection)
    decision = route(event.project_slug, event.type, load_rules(connection), candidates)
    names = {t.name for t in candidates}
    missing = (
        [] if decision.rule is None else [n for n in decision.rule.connectors if n not in names]
    )
    checks = [_check(target, rule) for target in decision.targets for rule in paging_rules(event)]
    return Explanation(decision, _reason(event, decision, missing), checks, missing)


def paging_rules(event: Event) -> list[Rule]:
    """The rules this event can trigger (a pool offline long enough; a failed run on a
    release branch...): its thresholds and history are the policy's, not routing's."""
    data = event.data
    if isinstance(data, TestRunCompleted) and data.pull_request is not None:
        return []  # pull-request runs never page
    rules = [rule for rule, event_type in EVENT_TYPE.items() if event_type == event.type]
    if isinstance(data, RunnerPoolOffline) and not data.airgapped:
        rules = [r for r in rules if r is not Rule.AIRGAPPED_POOL_OFFLINE]
    return rules


def _check(target: Target, rule: Rule) -> Check:
    severity = SEVERITY[rule]
    sent_as = capped(severity, target)
    enabled = rule in target.rules
    return Check(
        connector=target.name,
        rule=rule,
        enabled=enabled,
        severity=sent_as,
        capped_from=severity if sent_as != severity else None,
        sent=enabled and is_sent(sent_as, send_info=target.send_info),
    )


def _reason(event: Event, decision: Decision, missing: list[str]) -> str:
    what = f"project {event.project_slug!r} and event type {event.type!r}"
    rule = decision.rule
    if rule is None:
        if decision.targets:
            return f"no rule matches {what}: it goes to the default connectors"
        return f"no rule matches {what} and no connector is marked default: it goes nowhere"
    reason = (
        f"rule {rule.position} (project {_shown(rule.project)}, event type "
        f"{_shown(rule.event_type)}) is the first to match {what}"
    )
    if missing:
        gone = ", ".join(repr(name) for name in missing)
        reason += f"; it names {gone}, which no longer exist{'s' if len(missing) == 1 else ''}"
    return reason


def _shown(pattern: str | None) -> str:
    return "any" if pattern is None else repr(pattern)

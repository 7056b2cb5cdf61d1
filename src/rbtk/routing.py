"""Which PagerDuty connectors a trigger goes to (a resolve goes wherever its trigger went).

Ordered rules match an event by project and event type (exact or glob); the first that
matches names the connectors; an event no rule matches goes to the default connectors.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import Connection, select

from rbtk.policy.rules import EVENT_TYPE, Rule
from rbtk.policy.severity import Severity, is_sent
from rbtk.policy.state import Notification
from rbtk.store.tables import connectors, routing_rules


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

"""Which PagerDuty connectors a trigger goes to (a resolve goes wherever its trigger went).

Ordered rules match an event by project and event type (exact or glob); the first that
matches names the connectors; an event no rule matches goes to the default connectors.

The rules are an ordered list (`rbtk.routing.ordered_rules`); this module reads them, and
`rbtk.admin.routing` writes them. `rbtk.outbox.fanout.explain` says where an event would go
and why.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from rbtk.policy.rules import EVENT_TYPE, Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import Notification
from rbtk.routing import ordered_rules
from rbtk.routing.lanes import Audience
from rbtk.routing.ordered_rules import OrderedRule
from rbtk.routing.storms import StormRule
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
    storm: StormRule | None = None  # None: storm collapse is off
    change_events: bool = True  # releases go to its service as change events

    @property
    def audience(self) -> Audience:
        return Audience(self.rules, self.max_severity, self.send_info)


class RouteRule(OrderedRule):
    """A routing rule: its targets are connector names."""

    targets_field = "connectors"

    @property
    def connectors(self) -> tuple[str, ...]:
        return self.targets


@dataclass(frozen=True)
class Decision:
    """Where an event goes and why: the rule that matched, or None for the defaults."""

    rule: RouteRule | None
    targets: list[Target]


def load_targets(connection: Connection) -> list[Target]:
    rows = connection.execute(select(connectors).order_by(connectors.c.id))
    return [_target(row._mapping) for row in rows]


def load_rules(connection: Connection) -> list[RouteRule]:
    return ordered_rules.load(connection, routing_rules, RouteRule)


def route(
    project: str, event_type: str, rules: Sequence[RouteRule], candidates: Sequence[Target]
) -> Decision:
    rule = ordered_rules.first_match(rules, project, event_type)
    if rule is None:
        return Decision(None, [t for t in candidates if t.is_default])
    return Decision(rule, [t for t in candidates if t.name in rule.connectors])


def targets(
    notification: Notification, rules: Sequence[RouteRule], candidates: Sequence[Target]
) -> list[Target]:
    """The connectors a trigger is routed to (each then takes it or not: rbtk.routing.lanes)."""
    if notification.rule is None:
        return []
    event_type = notification.event_type or EVENT_TYPE[notification.rule]
    return route(notification.project_slug, event_type, rules, candidates).targets


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
        storm=StormRule(row["storm_threshold"], timedelta(seconds=row["storm_window_s"]))
        if row["storm_collapse"]
        else None,
        change_events=row["change_events"],
    )

"""Which PagerDuty connectors a trigger goes to (a resolve goes wherever its trigger went).

Ordered rules match an event by project and event type (exact or glob); the first that
matches names the connectors; an event no rule matches goes to the default connectors.

The rules are an ordered list (`rbtk.ordered_rules`) written only whole (`replace_rules`),
validated first, so a bad list changes nothing. Errors, each a `RoutingError` whose message
says what to do:

    RoutingError
      └── InvalidRouting (also an ordered_rules.InvalidList, a ValueError) — the list is
          wrong; `errors` names each problem
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from rbtk import ordered_rules
from rbtk.events import Event, RunnerPoolOffline, TestRunCompleted
from rbtk.ordered_rules import InvalidList, OrderedRule
from rbtk.policy.rules import EVENT_TYPE, SEVERITY, Rule
from rbtk.policy.severity import Severity, is_sent
from rbtk.policy.state import Notification
from rbtk.store.tables import connectors, routing_rules


class RoutingError(Exception):
    pass


class InvalidRouting(RoutingError, InvalidList):
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
    errors = ordered_rules.rule_errors(
        rules,
        known,
        noun="connector",
        refuse_catch_all="give a project or an event type (events that no rule matches go to "
        "the default connectors)",
    )
    if errors:
        raise InvalidRouting(errors)
    ordered_rules.store(connection, routing_rules, rules, now=now)
    return load_rules(connection)


def default_names(connection: Connection) -> list[str]:
    """The connectors that get what no rule matches."""
    rows = connection.execute(
        select(connectors.c.name)
        .where(connectors.c.is_default.is_(True))
        .order_by(connectors.c.name)
    )
    return [row.name for row in rows]


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

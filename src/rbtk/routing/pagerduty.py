"""Which PagerDuty connectors a trigger goes to (a resolve goes wherever its trigger went).

Ordered rules match an event by project and event type (exact or glob); the first that
matches names the connectors; an event no rule matches goes to the default connectors.

The rules are an ordered list (`rbtk.routing.ordered`) written only whole (`replace_rules`),
validated first, so a bad list changes nothing: `InvalidRouting` (an
`rbtk.admin.errors.InvalidList`) names each problem.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from rbtk.admin.errors import InvalidList
from rbtk.intake.events import Event
from rbtk.policy import engine
from rbtk.policy.engine import Answer, RuleCheck
from rbtk.policy.rules import EVENT_TYPE, SEVERITY, Rule
from rbtk.policy.severity import Severity, is_sent
from rbtk.policy.state import Notification
from rbtk.routing import ordered as ordered_rules
from rbtk.routing.lanes import Audience, capped
from rbtk.routing.ordered import OrderedRule
from rbtk.runtime.settings import Settings
from rbtk.store import state as stored
from rbtk.store.tables import connectors, routing_rules


class InvalidRouting(InvalidList):
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
    """Whether one routed connector would page for one rule the event's type can fire."""

    connector: str
    rule: Rule
    policy: RuleCheck  # what the policy makes of the event for this rule
    enabled: bool  # the connector's toggle for the rule
    severity: Severity  # as it would be sent: after the connector's severity cap
    capped_from: Severity | None  # the rule's own severity, when the cap lowered it
    send_info: bool  # the connector's opt-in to info
    sent: bool  # the rule holds now, is switched on, and is not info the connector drops

    @property
    def note(self) -> str:
        if self.policy.answer is Answer.NO:
            return f"not sent: {self.policy.reason}"
        if not self.enabled:
            return f"not sent: {self.rule} is switched off on {self.connector}"
        cap = f" (capped from {self.capped_from})" if self.capped_from else ""
        if not is_sent(self.severity, send_info=self.send_info):
            return f"not sent: {self.severity}{cap}, and {self.connector} does not send info"
        if self.policy.answer is Answer.PENDING:
            return f"pending: {self.policy.reason}; then sent as {self.severity}{cap}"
        return f"sent as {self.severity}{cap}"


@dataclass(frozen=True)
class Explanation:
    decision: Decision
    reason: str
    checks: list[Check]
    missing: list[str]  # connectors the matching rule names that no longer exist


def explain(
    connection: Connection, event: Event, *, settings: Settings, now: datetime
) -> Explanation:
    """Which rule an event matches and which connectors it would page, asking the policy
    itself (against the remembered state) what the event can fire; sends nothing."""
    candidates = load_targets(connection)
    decision = route(event.project_slug, event.type, load_rules(connection), candidates)
    names = {t.name for t in candidates}
    missing = (
        [] if decision.rule is None else [n for n in decision.rule.connectors if n not in names]
    )
    scope = engine.scope(event)
    state = stored.load(connection, scope.condition_keys, scope.release_keys)
    rule_checks = engine.explain(state, event, now, settings.policy())
    checks = [_check(target, check) for target in decision.targets for check in rule_checks]
    return Explanation(decision, _reason(event, decision, missing), checks, missing)


def _check(target: Target, policy: RuleCheck) -> Check:
    severity = SEVERITY[policy.rule]
    sent_as = capped(severity, target.max_severity)
    enabled = policy.rule in target.rules
    return Check(
        connector=target.name,
        rule=policy.rule,
        policy=policy,
        enabled=enabled,
        severity=sent_as,
        capped_from=severity if sent_as != severity else None,
        send_info=target.send_info,
        sent=policy.answer is Answer.PAGES
        and enabled
        and is_sent(sent_as, send_info=target.send_info),
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

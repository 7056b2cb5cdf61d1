"""Explaining a routing decision without sending anything: which rule an event matches, which
connectors it would page for which rules, and why not where it would not; aware of what is
remembered now (a pool offline for 7 minutes is pending, an open incident is not paged again)
and of what would hold the page back (a suppression window, the connector's open storm)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from rbtk.intake.events import Event
from rbtk.policy import engine
from rbtk.policy.engine import Answer, RuleCheck
from rbtk.policy.rules import SEVERITY, Rule
from rbtk.policy.severity import Severity, is_sent
from rbtk.routing import storms, suppression
from rbtk.routing.lanes import capped
from rbtk.routing.pagerduty import Decision, Target, load_rules, load_targets, route
from rbtk.runtime.settings import Settings
from rbtk.store import state as stored
from rbtk.store.tables import incidents


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
    paged_at: Severity | None = None  # what the incident's lane on this connector was sent
    held: str | None = None  # what would hold the page back when it is due

    @property
    def note(self) -> str:
        if self.policy.answer is Answer.NO:
            return f"not sent: {self.policy.reason}"
        if not self.enabled:
            return f"not sent: {self.rule} is switched off on {self.connector}"
        cap = f" (capped from {self.capped_from})" if self.capped_from else ""
        if not is_sent(self.severity, send_info=self.send_info):
            return f"not sent: {self.severity}{cap}, and {self.connector} does not send info"
        if self.paged_at is not None and self.severity <= self.paged_at:
            return f"not sent again: {self.connector} was already paged at {self.paged_at}"
        held = f"; held: {self.held}" if self.held else ""
        if self.policy.answer is Answer.PENDING:
            return f"pending: {self.policy.reason}; then sent as {self.severity}{cap}{held}"
        return f"sent as {self.severity}{cap}{held}"


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
    around = _Around(
        suppression.load_open(connection, now),
        storms.load_open(connection),
        _lanes(connection, scope.condition_keys),
        now,
    )
    checks = [_check(target, check, around) for target in decision.targets for check in rule_checks]
    return Explanation(decision, _reason(event, decision, missing), checks, missing)


@dataclass(frozen=True)
class _Around:
    """What stands around a page: windows, open storms, and each connector's lane."""

    windows: list[suppression.Window]
    storms: dict[int, storms.OpenStorm]
    lanes: dict[int, tuple[Severity | None, bool]]  # connector id → (sent at, held)
    now: datetime

    def holds(self, target: Target, at: datetime) -> str | None:
        window = suppression.covering(self.windows, target.id, at)
        if window is not None:
            return window.holds
        storm = self.storms.get(target.id)
        lane = self.lanes.get(target.id)
        if storm is not None and (lane is None or lane == (None, False)):
            return storm.reason
        return None


def _lanes(connection: Connection, keys: frozenset[str]) -> dict[int, tuple[Severity | None, bool]]:
    """Each connector's lane for the event's incident, when it has exactly one."""
    if len(keys) != 1:
        return {}
    rows = connection.execute(
        select(incidents.c.connector_id, incidents.c.severity, incidents.c.held).where(
            incidents.c.dedup_key == next(iter(keys))
        )
    )
    return {
        row.connector_id: (None if row.severity is None else Severity(row.severity), row.held)
        for row in rows
    }


def _check(target: Target, policy: RuleCheck, around: _Around) -> Check:
    severity = SEVERITY[policy.rule]
    sent_as = capped(severity, target.max_severity)
    enabled = policy.rule in target.rules
    paged_at, _ = around.lanes.get(target.id, (None, False))
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
        paged_at=paged_at,
        held=around.holds(target, policy.at or around.now),
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

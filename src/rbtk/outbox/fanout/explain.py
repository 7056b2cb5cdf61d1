"""Which connector gets this event? The pipeline run dry: the policy applied to what is
remembered now, and its triggers through the same stages and rows that fan-out runs
(`rbtk.outbox.pipeline`), with nothing written and a storm only counted. So explain says
what fan-out then queues, connector by connector, severity included; a rule still pending
(a pool offline for 7 of its 15 minutes) is run through the stages as it will be when due.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from rbtk.outbox.pipeline.lanes import Lane, LaneId, load_lanes
from rbtk.outbox.pipeline.stages import Note, Paging, Send, decide, page_rows, resolve_rows
from rbtk.outbox.pipeline.storm_gate import Gate
from rbtk.policy import engine
from rbtk.policy.engine import Finding, RuleCheck
from rbtk.policy.events import Event
from rbtk.policy.rules import SEVERITY, PolicyConfig, Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Kind, Notification
from rbtk.routing import storms, suppression
from rbtk.routing.lanes import capped
from rbtk.routing.pagerduty import Decision, Target, load_rules, load_targets, route
from rbtk.runtime.settings import Settings
from rbtk.store import policy_state


@dataclass(frozen=True)
class Check:
    """What one routed connector gets for one rule the event's type can fire."""

    connector: str
    rule: Rule
    policy: RuleCheck  # what the policy makes of the event for this rule
    enabled: bool  # the connector's toggle for the rule
    severity: Severity  # as it is (or would be) sent: after the connector's severity cap
    capped_from: Severity | None  # the rule's own severity, when the cap lowered it
    send_info: bool  # the connector's opt-in to info
    sent: bool  # the event pages this connector now (sent, or held back to be sent later)
    paged_at: Severity | None = None  # what the incident's lane on this connector was sent
    held: str | None = None  # what holds the page back (now, or when it is due)
    left_out: Note | None = None  # why the pipeline leaves this connector out
    repeat: str | None = None  # why the policy sends nothing new (already paged)

    @property
    def note(self) -> str:
        if self.policy.finding is Finding.NO:
            return f"not sent: {self.policy.reason}"
        if self.repeat is not None:
            return f"not sent again: {self.repeat}"
        cap = f" (capped from {self.capped_from})" if self.capped_from else ""
        if self.left_out is not None:
            if self.left_out.stage == "info":
                return f"not sent: {self.severity}{cap}, and {self.left_out.text}"
            if self.left_out.stage == "already paged":
                return f"not sent again: {self.left_out.text}"
            return f"not sent: {self.left_out.text}"
        held = f"; held: {self.held}" if self.held else ""
        if self.policy.finding is Finding.PENDING:
            return f"pending: {self.policy.reason}; then sent as {self.severity}{cap}{held}"
        return f"sent as {self.severity}{cap}{held}"


@dataclass(frozen=True)
class Explanation:
    decision: Decision
    reason: str
    checks: list[Check]
    missing: list[str]  # connectors the matching rule names that no longer exist


def explain_event(
    connection: Connection, event: Event, *, settings: Settings, now: datetime
) -> Explanation:
    """Which rule an event matches and which connectors it pages, by running the policy and
    the pipeline on it against what is remembered now; writes nothing."""
    candidates = load_targets(connection)
    rules = load_rules(connection)
    decision = route(event.project_slug, event.type, rules, candidates)
    names = {t.name for t in candidates}
    missing = (
        [] if decision.rule is None else [n for n in decision.rule.connectors if n not in names]
    )
    scope = engine.scope(event)
    state = policy_state.load(connection, scope.condition_keys, scope.release_keys)
    policy = PolicyConfig.of(settings)
    outcome = engine.apply(state, event, now, policy)
    keys = set(scope.condition_keys) | {n.dedup_key for n in outcome.notifications}
    paging = Paging(
        candidates,
        rules,
        suppression.load_open(connection, now),
        load_lanes(connection, keys),
        now,
        gate=Gate(connection, storms.load_open(connection), now, dry=True),
    )
    lanes = dict(paging.lanes)  # as they stand before this event
    # What fan-out runs, in its order, rows and lanes included; the rows are not kept.
    ran: dict[tuple[Rule | None, int], Send] = {}
    for notification in outcome.notifications:
        if notification.action is Action.TRIGGER:
            sends = decide(notification, paging)
            for send in sends:
                ran.setdefault((notification.rule, send.target.id), send)
            page_rows(sends, paging, settings)
        else:
            resolve_rows(notification, paging, settings)
    fired = {n.rule: n for n in outcome.notifications if n.action is Action.TRIGGER}
    said = outcome.reasons.get(event.id, [])
    checks = []
    for target in decision.targets:
        for check in engine.explain(state, event, now, policy):
            lane = next((lane for (cid, _), lane in lanes.items() if cid == target.id), None)
            paged_at = None if lane is None or len(keys) != 1 else lane.severity
            base = _base(target, check, paged_at)
            if check.finding is Finding.NO:
                checks.append(base)
            elif check.finding is Finding.PAGES and check.rule not in fired:
                checks.append(replace(base, repeat=_repeat(target, check.rule, paged_at, said)))
            elif check.finding is Finding.PAGES:
                trigger = fired[check.rule]
                checks.append(_outcome(base, ran.get((check.rule, target.id)), paging, trigger))
            else:
                checks.append(_pending(base, check, event, keys, lanes, paging, settings))
    return Explanation(decision, _reason(event, decision, missing), checks, missing)


def _base(target: Target, check: RuleCheck, paged_at: Severity | None) -> Check:
    severity = SEVERITY[check.rule]
    sent_as = capped(severity, target.max_severity)
    return Check(
        connector=target.name,
        rule=check.rule,
        policy=check,
        enabled=check.rule in target.rules,
        severity=sent_as,
        capped_from=severity if sent_as != severity else None,
        send_info=target.send_info,
        sent=False,
        paged_at=paged_at,
    )


def _repeat(target: Target, rule: Rule, paged_at: Severity | None, said: list[str]) -> str:
    """Why the policy sends nothing new for a rule that holds: it fired already."""
    if paged_at is not None:
        return f"{target.name} was already paged at {paged_at}"
    mine = [r for r in said if r.startswith(f"already paged ({rule})")]
    return "; ".join(mine or [r for r in said if r.startswith("already paged")]) or "already paged"


def _outcome(base: Check, send: Send | None, paging: Paging, trigger: Notification) -> Check:
    """The check as the pipeline decided it for this connector."""
    if send is not None:
        return replace(base, sent=True, severity=send.severity, held=send.held)
    note = next(
        (
            n
            for n in paging.notes
            if n.dedup_key == trigger.dedup_key
            and n.rule == trigger.rule
            and n.connector == base.connector
            and not n.held
        ),
        None,
    )
    return replace(base, left_out=note)


def _pending(
    base: Check,
    check: RuleCheck,
    event: Event,
    keys: set[str],
    lanes: dict[LaneId, Lane],
    paging: Paging,
    settings: Settings,
) -> Check:
    """A rule that pages later (a pool past its threshold): its trigger through the stages
    as they stand when it is due."""
    at = check.at or paging.now
    [key] = sorted(keys)  # only a pool's condition is ever pending: one key
    trigger = Notification(
        Action.TRIGGER, key, Kind.POOL_OFFLINE, check.rule, SEVERITY[check.rule], "",
        event.project_slug, at, {}, event_id=event.id, event_type=event.type,
    )  # fmt: skip
    gate = None if paging.gate is None else paging.gate.dry_at(at)
    later = Paging(paging.candidates, paging.rules, paging.windows, dict(lanes), at, gate=gate)
    sends = [s for s in decide(trigger, later) if s.target.name == base.connector]
    return replace(_outcome(base, sends[0] if sends else None, later, trigger), sent=False)


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

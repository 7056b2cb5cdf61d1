"""The PagerDuty pipeline, declared once: every path that queues a page runs these stages.

A trigger becomes one `Send` per connector the routing names (`route`); then each stage of
`STAGES` takes the list and gives back what passes, refined, noting why a connector was
left out or is held back:

    route → toggles → cap → suppress → storm → rows

`rows` turns what passed into outbox rows and keeps each connector's `Lane` (its incident,
`rbtk.outbox.pipeline.lanes`) up to date. A resolve goes to every lane its trigger opened
(`resolve_rows`). Fan-out (`rbtk.outbox.fanout.notifications`: events, threshold ticks,
resolve by hand), the release of what a window or storm held (`rbtk.outbox.fanout.release`,
through `RELEASE_STAGES`) and explain (`rbtk.outbox.fanout.explain`, a dry run: no writes, a
storm only counted) run these functions; none keeps a copy of their rules.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rbtk.channels.pagerduty_body import resolve_body, trigger_body
from rbtk.outbox.pipeline.lanes import PLACEHOLDER_KEY, Lane, LaneId, lane_page
from rbtk.outbox.pipeline.storm_gate import Gate
from rbtk.outbox.rows import OutboxRow
from rbtk.policy.rules import Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import Notification
from rbtk.routing.lanes import admits, takes
from rbtk.routing.pagerduty import RouteRule, Target, targets
from rbtk.routing.storms import OpenStorm
from rbtk.routing.suppression import Window, covering
from rbtk.runtime.settings import Settings

SENT, HELD, LEFT_OUT = "sent", "held", "left out"


@dataclass(frozen=True)
class Note:
    """One connector's decision on one trigger: sent (at what), held back, or left out, by
    which stage and why. The event's record keeps them (`events.decisions`)."""

    event_id: str | None
    dedup_key: str
    rule: Rule | None
    connector: str | None  # None: no connector was routed at all
    stage: str
    text: str
    outcome: str = LEFT_OUT
    severity: Severity | None = None  # what it was sent (or held) at

    @property
    def held(self) -> bool:
        return self.outcome == HELD

    def to_json(self) -> dict[str, Any]:
        return {
            "dedup_key": self.dedup_key,
            "rule": self.rule,
            "connector": self.connector,
            "outcome": self.outcome,
            "severity": self.severity,
            "stage": self.stage,
            "reason": self.text,
        }


@dataclass
class Paging:
    """One transaction's paging: what the stages read (connectors, routing rules, windows,
    the storm gate, runbooks), the lanes they change and the notes they take."""

    candidates: list[Target]
    rules: list[RouteRule]
    windows: list[Window]
    lanes: dict[LaneId, Lane]
    now: datetime
    gate: Gate | None = None  # None: no storm detection
    runbooks: Mapping[Rule, str] = field(default_factory=dict)  # linked from each trigger
    notes: list[Note] = field(default_factory=list)

    def note(
        self, send: "Send | Notification", stage: str, text: str, *, outcome: str = LEFT_OUT
    ) -> None:
        notification = send.notification if isinstance(send, Send) else send
        connector, severity = None, None
        if isinstance(send, Send):
            connector = send.target.name
            severity = None if outcome == LEFT_OUT else send.severity
        self.notes.append(
            Note(notification.event_id, notification.dedup_key, notification.rule, connector,
                 stage, text, outcome, severity)
        )  # fmt: skip

    @property
    def reasons(self) -> dict[str, list[str]]:
        """The notes by event id, as each event's record keeps them."""
        said: dict[str, list[str]] = {}
        for note in self.notes:
            if note.event_id is not None and note.outcome != SENT:
                said.setdefault(note.event_id, []).append(note.text)
        return said

    @property
    def decisions(self) -> dict[str, list[dict[str, Any]]]:
        """Every note by event id, as data: each connector's decision, sent ones included."""
        said: dict[str, list[dict[str, Any]]] = {}
        for note in self.notes:
            if note.event_id is not None:
                said.setdefault(note.event_id, []).append(note.to_json())
        return said

    def lane(self, target: Target, key: str) -> Lane | None:
        return self.lanes.get((target.id, key))


@dataclass(frozen=True)
class Send:
    """One trigger on its way to one connector, as the stages refine it."""

    notification: Notification
    target: Target
    severity: Severity  # as it will be sent: after the connector's cap
    window: Window | None = None  # the suppression window holding it back
    storm: OpenStorm | None = None  # the storm holding it back as a member

    @property
    def held(self) -> str | None:
        """Why it is held back, or None: it is sent."""
        if self.window is not None:
            return self.window.holds
        return None if self.storm is None else self.storm.reason


Stage = Callable[[list[Send], Paging], list[Send]]


def route(notification: Notification, paging: Paging) -> list[Send]:
    """The connectors the routing rules (or the defaults) name for this trigger."""
    sends = [
        Send(notification, target, notification.severity)
        for target in targets(notification, paging.rules, paging.candidates)
    ]
    if not sends:
        paging.note(
            notification,
            "route",
            "no connector takes it: no routing rule names one for "
            "this project and event type, and no connector is the default",
        )
    return sends


def toggles(sends: list[Send], paging: Paging) -> list[Send]:
    """Each connector takes only the rules switched on for it."""
    kept = []
    for send in sends:
        rule = send.notification.rule
        if rule in send.target.rules:
            kept.append(send)
        else:
            paging.note(send, "toggles", f"rule {rule} is switched off on {send.target.name}")
    return kept


def cap(sends: list[Send], paging: Paging) -> list[Send]:
    """Each connector's severity cap and info opt-out, and only what its lane was not sent
    yet: a lane paged critical is not paged again at error (`rbtk.routing.lanes`)."""
    kept = []
    for send in sends:
        lane = paging.lane(send.target, send.notification.dedup_key)
        sent = None if lane is None else lane.severity
        severity = admits(send.notification, send.target.audience, sent)
        if severity is not None:
            kept.append(replace(send, severity=severity))
        elif takes(send.notification, send.target.audience) is None:
            paging.note(send, "info", f"{send.target.name} does not send info")
        else:
            paging.note(send, "already paged", f"{send.target.name} was already paged at {sent}")
    return kept


def suppress(sends: list[Send], paging: Paging) -> list[Send]:
    """A window covering the connector holds the trigger back (sent when the window ends)."""
    held = [replace(s, window=covering(paging.windows, s.target.id, paging.now)) for s in sends]
    for send in held:
        if send.window is not None:
            paging.note(send, "suppress", f"held on {send.target.name}: {send.window.holds}",
                       outcome=HELD)  # fmt: skip
    return held


def storm(sends: list[Send], paging: Paging) -> list[Send]:
    """Past its connector's storm threshold, a new incident joins the storm: held, paged by
    the storm's umbrella (`rbtk.outbox.storms.umbrella`). A member stays held when it triggers
    again; an incident paged already (a severity rise) and a trigger a window holds pass as
    they are."""
    if paging.gate is None:
        return sends
    passed = []
    for send in sends:
        lane = paging.lane(send.target, send.notification.dedup_key)
        if send.window is None and (lane is None or lane.new_incident):
            send = replace(send, storm=paging.gate.admit(send.target))
            if send.storm is not None:
                paging.note(send, "storm", f"held on {send.target.name}: {send.storm.reason}",
                           outcome=HELD)  # fmt: skip
        elif send.window is None and lane is not None and lane.storm_id is not None:
            current = paging.gate.storm(send.target.id)
            if current is not None and current.id == lane.storm_id:
                send = replace(send, storm=current)
        passed.append(send)
    return passed


# The list a trigger passes, after `route`: reading it reads the flow.
STAGES: tuple[Stage, ...] = (toggles, cap, suppress, storm)
# What a trigger held by a window or a storm passes when it is released: it was routed,
# toggled and capped when it was held; it may still join a storm.
RELEASE_STAGES: tuple[Stage, ...] = (storm,)
# What a page again passes (reconcile, an incident resolved by hand in PagerDuty while still
# firing here): it was paged once, so it is no new incident; a window may hold it back.
REPAGE_STAGES: tuple[Stage, ...] = (suppress,)


def decide(notification: Notification, paging: Paging) -> list[Send]:
    """A trigger through `route` and `STAGES`: where it goes, at what severity, and what
    holds it back there."""
    return through(route(notification, paging), paging, STAGES)


def through(sends: list[Send], paging: Paging, stages: Sequence[Stage]) -> list[Send]:
    for stage in stages:
        sends = stage(sends, paging)
    return sends


def page_rows(sends: Iterable[Send], paging: Paging, settings: Settings) -> list[OutboxRow]:
    """The rows for what passed the stages, each lane updated to what it was sent: held
    rows are logged, never sent on their own; a sent one opens (or raises) the lane."""
    now = paging.now
    built = []
    for send in sends:
        key = send.notification.dedup_key
        lane = paging.lane(send.target, key) or Lane.new(send.target, key, now)
        sent = replace(send.notification, severity=send.severity)
        body = trigger_body(
            sent, PLACEHOLDER_KEY, base_url=settings.base_url, runbooks=paging.runbooks
        )
        row = lane_page(sent, send.target.name, lane, body, settings, now)
        if send.window is not None:
            lane = replace(lane, held=True)
            window = send.window
            row = row.held(
                f"held back by suppression #{window.id}: {window.reason}",
                suppression_id=window.id,
            )
        elif send.storm is not None:
            lane = replace(lane, held=True, storm_id=send.storm.id)
            row = row.held(send.storm.reason, storm_id=send.storm.id)
        else:
            # Sent again, it opens PagerDuty's incident again if it was resolved there by hand.
            lane = replace(
                lane,
                announced=True,
                held=False,
                storm_id=None,
                triggered_at=lane.triggered_at or now,
                resolved_in_pagerduty_at=None,
            )
            sent_as = f"sent to {send.target.name} as {send.severity}"
            paging.note(send, "rows", sent_as, outcome=SENT)
        paging.lanes[lane.id] = replace(lane, severity=send.severity)
        built.append(row)
    return built


def resolve_rows(notification: Notification, paging: Paging, settings: Settings) -> list[OutboxRow]:
    """A resolve for every lane its trigger opened, at the severity that lane was sent."""
    key = notification.dedup_key
    names = {t.id: t.name for t in paging.candidates}
    built = []
    for lane_id in sorted(lane_id for lane_id in paging.lanes if lane_id[1] == key):
        lane = paging.lanes.pop(lane_id)
        body = resolve_body(key, PLACEHOLDER_KEY)
        closing = replace(notification, severity=lane.severity or notification.severity)
        name = names.get(lane.connector_id, "(removed)")
        row = lane_page(closing, name, lane, body, settings, paging.now)
        if not lane.announced:
            # Opened and cleared inside a window: PagerDuty never heard of it.
            row = row.held("not sent: its trigger was held back and never sent")
        built.append(row)
    return built

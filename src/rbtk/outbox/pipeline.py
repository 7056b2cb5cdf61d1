"""The PagerDuty pipeline, declared once: every path that queues a page runs these stages.

A trigger becomes one `Send` per connector the routing names (`route`); then each stage of
`STAGES` takes the list and gives back what passes, refined, noting why a connector was
left out or is held back:

    route → toggles → cap → suppress → storm → rows

`rows` turns what passed into outbox rows and keeps each connector's `Lane` (its incident)
up to date. A resolve goes to every lane its trigger opened (`resolve_rows`). Fan-out
(`rbtk.outbox.fanout`: events, threshold ticks, resolve by hand), the release of what a
window or storm held (`rbtk.outbox.release`, through `RELEASE_STAGES`) and explain
(`rbtk.outbox.explain`, a dry run: no writes, a storm only counted) run these functions;
none keeps a copy of their rules.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, insert, select

from rbtk.channels.pagerduty_body import resolve_body, trigger_body
from rbtk.outbox import rows
from rbtk.outbox.rows import OutboxRow
from rbtk.outbox.storms import Gate
from rbtk.policy.rules import Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import Notification
from rbtk.routing.lanes import admits, takes
from rbtk.routing.pagerduty import RouteRule, Target, targets
from rbtk.routing.storms import OpenStorm
from rbtk.routing.suppression import Window, covering
from rbtk.runtime.settings import Settings
from rbtk.store.tables import incidents

PLACEHOLDER_KEY = "0" * 32  # bodies are sized with a key-long stand-in; the key is added late
_CHUNK = 500

LaneId = tuple[int, str]  # (connector id, dedup key)


@dataclass(frozen=True)
class Lane:
    """One connector's incident for one dedup key: what it was sent, and what holds it."""

    connector_id: int
    dedup_key: str
    routing_key: bytes  # encrypted: the key that opened it, which its resolve must use
    key_fingerprint: str
    region: str
    opened_at: datetime
    announced: bool = False  # a trigger was queued for PagerDuty, so a resolve must follow
    held: bool = False  # its trigger waits on a suppression window or a storm
    severity: Severity | None = None  # what it was paged (or held) at
    triggered_at: datetime | None = None  # its first trigger queued to be sent
    storm_id: int | None = None  # the storm holding its trigger
    resolved_in_pagerduty_at: datetime | None = None  # found resolved by hand, by reconcile
    # PagerDuty's side as its webhooks last told it (rbtk.reconcile.webhooks), kept as is
    pagerduty_status: str | None = None
    pagerduty_by: str | None = None
    pagerduty_at: datetime | None = None

    @classmethod
    def new(cls, target: Target, key: str, now: datetime) -> "Lane":
        return cls(target.id, key, target.routing_key, target.key_fingerprint, target.region, now)

    @classmethod
    def stored(cls, row: Row[Any]) -> "Lane":
        values = dict(row._mapping)
        severity = values["severity"]
        return cls(**{**values, "severity": None if severity is None else Severity(severity)})

    def values(self) -> dict[str, Any]:
        values = asdict(self)
        values["severity"] = None if self.severity is None else self.severity.value
        return values

    @property
    def id(self) -> LaneId:
        return (self.connector_id, self.dedup_key)

    @property
    def new_incident(self) -> bool:
        """Neither paged nor held yet: what a storm counts."""
        return not (self.announced or self.held)


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
class World:
    """What the stages read and the lanes they change, for one transaction."""

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


Stage = Callable[[list[Send], World], list[Send]]


def route(notification: Notification, world: World) -> list[Send]:
    """The connectors the routing rules (or the defaults) name for this trigger."""
    sends = [
        Send(notification, target, notification.severity)
        for target in targets(notification, world.rules, world.candidates)
    ]
    if not sends:
        world.note(
            notification,
            "route",
            "no connector takes it: no routing rule names one for "
            "this project and event type, and no connector is the default",
        )
    return sends


def toggles(sends: list[Send], world: World) -> list[Send]:
    """Each connector takes only the rules switched on for it."""
    kept = []
    for send in sends:
        rule = send.notification.rule
        if rule in send.target.rules:
            kept.append(send)
        else:
            world.note(send, "toggles", f"rule {rule} is switched off on {send.target.name}")
    return kept


def cap(sends: list[Send], world: World) -> list[Send]:
    """Each connector's severity cap and info opt-out, and only what its lane was not sent
    yet: a lane paged critical is not paged again at error (`rbtk.routing.lanes`)."""
    kept = []
    for send in sends:
        lane = world.lane(send.target, send.notification.dedup_key)
        sent = None if lane is None else lane.severity
        severity = admits(send.notification, send.target.audience, sent)
        if severity is not None:
            kept.append(replace(send, severity=severity))
        elif takes(send.notification, send.target.audience) is None:
            world.note(send, "info", f"{send.target.name} does not send info")
        else:
            world.note(send, "already paged", f"{send.target.name} was already paged at {sent}")
    return kept


def suppress(sends: list[Send], world: World) -> list[Send]:
    """A window covering the connector holds the trigger back (sent when the window ends)."""
    held = [replace(s, window=covering(world.windows, s.target.id, world.now)) for s in sends]
    for send in held:
        if send.window is not None:
            world.note(send, "suppress", f"held on {send.target.name}: {send.window.holds}",
                       outcome=HELD)  # fmt: skip
    return held


def storm(sends: list[Send], world: World) -> list[Send]:
    """Past its connector's storm threshold, a new incident joins the storm: held, paged by
    the storm's umbrella (`rbtk.outbox.storms`). A member stays held when it triggers again;
    an incident paged already (a severity rise) and a trigger a window holds pass as they are."""
    if world.gate is None:
        return sends
    passed = []
    for send in sends:
        lane = world.lane(send.target, send.notification.dedup_key)
        if send.window is None and (lane is None or lane.new_incident):
            send = replace(send, storm=world.gate.admit(send.target))
            if send.storm is not None:
                world.note(send, "storm", f"held on {send.target.name}: {send.storm.reason}",
                           outcome=HELD)  # fmt: skip
        elif send.window is None and lane is not None and lane.storm_id is not None:
            current = world.gate.storm(send.target.id)
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


def decide(notification: Notification, world: World) -> list[Send]:
    """A trigger through `route` and `STAGES`: where it goes, at what severity, and what
    holds it back there."""
    return through(route(notification, world), world, STAGES)


def through(sends: list[Send], world: World, stages: Sequence[Stage]) -> list[Send]:
    for stage in stages:
        sends = stage(sends, world)
    return sends


def page_rows(sends: Iterable[Send], world: World, settings: Settings) -> list[OutboxRow]:
    """The rows for what passed the stages, each lane updated to what it was sent: held
    rows are logged, never sent on their own; a sent one opens (or raises) the lane."""
    now = world.now
    built = []
    for send in sends:
        key = send.notification.dedup_key
        lane = world.lane(send.target, key) or Lane.new(send.target, key, now)
        sent = replace(send.notification, severity=send.severity)
        body = trigger_body(
            sent, PLACEHOLDER_KEY, base_url=settings.base_url, runbooks=world.runbooks
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
            world.note(send, "rows", f"sent to {send.target.name} as {send.severity}", outcome=SENT)
        world.lanes[lane.id] = replace(lane, severity=send.severity)
        built.append(row)
    return built


def resolve_rows(notification: Notification, world: World, settings: Settings) -> list[OutboxRow]:
    """A resolve for every lane its trigger opened, at the severity that lane was sent."""
    key = notification.dedup_key
    names = {t.id: t.name for t in world.candidates}
    built = []
    for lane_id in sorted(lane_id for lane_id in world.lanes if lane_id[1] == key):
        lane = world.lanes.pop(lane_id)
        body = resolve_body(key, PLACEHOLDER_KEY)
        closing = replace(notification, severity=lane.severity or notification.severity)
        name = names.get(lane.connector_id, "(removed)")
        row = lane_page(closing, name, lane, body, settings, world.now)
        if not lane.announced:
            # Opened and cleared inside a window: PagerDuty never heard of it.
            row = row.held("not sent: its trigger was held back and never sent")
        built.append(row)
    return built


def lane_page(
    notification: Notification,
    connector_name: str,
    lane: Lane,
    body: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> OutboxRow:
    """A trigger or resolve of one lane, to where and with the key the lane holds."""
    return rows.page(
        notification,
        connector_id=lane.connector_id,
        connector_name=connector_name,
        destination=lane.routing_key,
        key_fingerprint=lane.key_fingerprint,
        body=body,
        endpoint=settings.pagerduty_endpoint(lane.region),
        now=now,
    )


def load_lanes(connection: Connection, keys: Iterable[str]) -> dict[LaneId, Lane]:
    """Every connector's lane for these dedup keys."""
    found: dict[LaneId, Lane] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        stored = connection.execute(
            select(incidents).where(incidents.c.dedup_key.in_(ordered[start : start + _CHUNK]))
        )
        for row in stored:
            lane = Lane.stored(row)
            found[lane.id] = lane
    return found


def save_lanes(
    connection: Connection, stored: Iterable[LaneId], lanes: Mapping[LaneId, Lane]
) -> None:
    """Replace what changed: delete every stored lane touched, insert what is still open."""
    touched = [{"cid": cid, "key": key} for cid, key in stored]
    if touched:
        connection.execute(
            delete(incidents).where(
                and_(
                    incidents.c.connector_id == bindparam("cid"),
                    incidents.c.dedup_key == bindparam("key"),
                )
            ),
            touched,
        )
    if lanes:
        connection.execute(insert(incidents), [lane.values() for lane in lanes.values()])

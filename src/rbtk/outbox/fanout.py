"""PagerDuty fan-out: notifications become outbox rows per connector, in the caller's
transaction, with the incidents table recording where each trigger went.

A trigger is routed (rules, defaults), then each connector takes it or not by its own
toggles, severity cap and what its lane was already sent (`rbtk.routing.lanes`); it is held
back while a suppression window covers the connector, or as a member of the connector's
storm (`rbtk.outbox.storms`). A resolve goes exactly where its trigger went, with the key
that sent it and the severity it was sent at, window or not.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select

from rbtk.channels.pagerduty_body import resolve_body, trigger_body
from rbtk.outbox import rows
from rbtk.outbox.coalesce import coalesce
from rbtk.outbox.rows import OutboxRow, insert_one, insert_rows
from rbtk.outbox.status import Status
from rbtk.outbox.storms import Gate
from rbtk.policy.rules import Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Notification
from rbtk.routing.lanes import admits, takes
from rbtk.routing.pagerduty import RouteRule, Target, targets
from rbtk.routing.snapshot import Snapshot
from rbtk.routing.storms import OpenStorm
from rbtk.routing.suppression import Window, covering
from rbtk.runtime.settings import Settings
from rbtk.store.tables import incidents

PLACEHOLDER_KEY = "0" * 32  # bodies are sized with a key-long stand-in; the key is added late
_CHUNK = 500

Lane = tuple[int, str]  # (connector id, dedup key)


@dataclass(frozen=True)
class FanOut:
    queued: int  # rows that will really be sent
    paging_events: frozenset[str]  # ids of events that reached some connector's log
    storms_opened: bool = False  # the scheduler must queue their umbrellas
    paged_events: frozenset[str] = frozenset()  # ids of events that triggered (sent or held)
    # Why, by event id, a trigger did not reach a connector, or reached it held back.
    reasons: Mapping[str, list[str]] = field(default_factory=dict)


def enqueue(
    connection: Connection,
    notifications: Sequence[Notification],
    *,
    settings: Settings,
    now: datetime,
    config: Snapshot,
) -> FanOut:
    """Queue rows for these notifications, in the caller's transaction.

    Each trigger passes the stages in order (as Alertmanager's pipeline reads): route, rule
    toggles, severity cap against what its lane was sent, suppression, storm, rows.
    A resolve goes to every lane its trigger opened. Rows that would only undo rows still
    waiting unsent coalesce with them (`rbtk.outbox.coalesce`). Lanes change as the batch goes, so a
    later notification for the same lane sees what an earlier one sent."""
    if not notifications:
        return FanOut(0, frozenset())
    world = World(
        candidates=config.targets,
        rules=config.rules,
        windows=config.open_windows(now),
        lanes=_incidents(connection, {n.dedup_key for n in notifications}),
        gate=Gate(connection, config.storms, now),
        runbooks=config.runbooks,
    )
    stored = set(world.lanes)
    built: list[OutboxRow] = []
    for notification in notifications:
        if notification.action is Action.TRIGGER:
            sends = route(notification, world)
            sends = toggles(sends, world)
            sends = cap(sends, world)
            sends = suppress(sends, world, now)
            sends = storm(sends, world)
            built += _trigger_rows(sends, world, settings, now)
        else:
            built += _resolve_rows(notification, world, settings, now)
    _save_incidents(connection, stored, world.lanes)
    built = coalesce(connection, built, open_lanes=stored, now=now)
    insert_rows(connection, built)
    return FanOut(
        sum(row.status == Status.QUEUED.value for row in built),
        frozenset(row.event_id for row in built if row.event_id),
        storms_opened=bool(world.gate and world.gate.opened),
        paged_events=frozenset(
            row.event_id for row in built if row.event_id and row.action == Action.TRIGGER
        ),
        reasons=world.reasons,
    )


@dataclass
class World:
    """What the stages read: connectors, routing rules, open windows, each lane, and the
    storm gate (None: no storm detection)."""

    candidates: list[Target]
    rules: list[RouteRule]
    windows: list[Window]
    lanes: dict[Lane, dict[str, Any]]
    gate: Gate | None = None
    reasons: dict[str, list[str]] = field(default_factory=dict)
    runbooks: Mapping[Rule, str] = field(default_factory=dict)  # linked from each trigger

    def note(self, notification: Notification, reason: str) -> None:
        """Say why a trigger does not reach a connector as it is: kept with its event."""
        if notification.event_id is not None:
            self.reasons.setdefault(notification.event_id, []).append(reason)

    def lane(self, target: Target, key: str, now: datetime) -> dict[str, Any]:
        return self.lanes.get((target.id, key)) or _new_incident(target, key, now)


@dataclass(frozen=True)
class Send:
    """One trigger on its way to one connector, as the stages refine it."""

    notification: Notification
    target: Target
    severity: Severity  # as it will be sent: after the connector's cap
    window: Window | None = None  # the suppression window holding it back
    storm: OpenStorm | None = None  # the storm holding it back as a member


def route(notification: Notification, world: World) -> list[Send]:
    """The connectors the routing rules (or the defaults) name for this trigger."""
    sends = [
        Send(notification, target, notification.severity)
        for target in targets(notification, world.rules, world.candidates)
    ]
    if not sends:
        world.note(
            notification,
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
            world.note(send.notification, f"rule {rule} is switched off on {send.target.name}")
    return kept


def cap(sends: list[Send], world: World) -> list[Send]:
    """Each connector's severity cap and info opt-out, and only what its lane was not sent
    yet: a lane paged critical is not paged again at error (`rbtk.routing.lanes`)."""
    kept = []
    for send in sends:
        lane = world.lanes.get((send.target.id, send.notification.dedup_key))
        sent = lane_severity(lane or {})
        severity = admits(send.notification, send.target.audience, sent)
        if severity is not None:
            kept.append(replace(send, severity=severity))
        elif takes(send.notification, send.target.audience) is None:
            world.note(send.notification, f"{send.target.name} does not send info")
        else:
            world.note(send.notification, f"{send.target.name} was already paged at {sent}")
    return kept


def suppress(sends: list[Send], world: World, now: datetime) -> list[Send]:
    """A window covering the connector holds the trigger back (sent when the window ends)."""
    held = [replace(s, window=covering(world.windows, s.target.id, now)) for s in sends]
    for send in held:
        if send.window is not None:
            world.note(send.notification, f"held on {send.target.name}: {send.window.holds}")
    return held


def storm(sends: list[Send], world: World) -> list[Send]:
    """Past its connector's storm threshold, a new incident joins the storm: held, paged by
    the storm's umbrella (`rbtk.outbox.storms`). A member stays held when it triggers again;
    an incident paged already (a severity rise) and a trigger a window holds pass as they are."""
    if world.gate is None:
        return sends
    passed = []
    for send in sends:
        lane = world.lanes.get((send.target.id, send.notification.dedup_key))
        if send.window is None and (lane is None or not (lane["announced"] or lane["held"])):
            send = replace(send, storm=world.gate.admit(send.target))
            if send.storm is not None:
                world.note(send.notification, f"held on {send.target.name}: {send.storm.reason}")
        elif send.window is None and lane is not None and lane.get("storm_id") is not None:
            current = world.gate.storm(send.target.id)
            if current is not None and current.id == lane["storm_id"]:
                send = replace(send, storm=current)
        passed.append(send)
    return passed


def _trigger_rows(
    sends: list[Send], world: World, settings: Settings, now: datetime
) -> list[OutboxRow]:
    built = []
    for send in sends:
        key = send.notification.dedup_key
        incident = world.lane(send.target, key, now)
        incident["severity"] = send.severity.value
        world.lanes[(send.target.id, key)] = incident
        sent = replace(send.notification, severity=send.severity)
        body = trigger_body(
            sent, PLACEHOLDER_KEY, base_url=settings.base_url, runbooks=world.runbooks
        )
        row = lane_page(sent, send.target.name, incident, body, settings, now)
        if send.window is not None:
            incident["held"] = True
            window = send.window
            row = row.held(
                f"held back by suppression #{window.id}: {window.reason}",
                suppression_id=window.id,
            )
        elif send.storm is not None:
            incident["held"], incident["storm_id"] = True, send.storm.id
            row = row.held(send.storm.reason, storm_id=send.storm.id)
        else:
            incident["announced"], incident["held"], incident["storm_id"] = True, False, None
            incident["triggered_at"] = incident.get("triggered_at") or now
            # Sent again, it opens PagerDuty's incident again if it was resolved there by hand.
            incident["resolved_in_pagerduty_at"] = None
        built.append(row)
    return built


def _resolve_rows(
    notification: Notification, world: World, settings: Settings, now: datetime
) -> list[OutboxRow]:
    """A resolve for every lane its trigger opened, at the severity that lane was sent."""
    key = notification.dedup_key
    names = {t.id: t.name for t in world.candidates}
    built = []
    for lane in sorted(lane for lane in world.lanes if lane[1] == key):
        incident = world.lanes.pop(lane)
        body = resolve_body(key, PLACEHOLDER_KEY)
        closing = replace(notification, severity=lane_severity(incident) or notification.severity)
        row = lane_page(closing, names.get(lane[0], "(removed)"), incident, body, settings, now)
        if not incident["announced"]:
            # Opened and cleared inside a window: PagerDuty never heard of it.
            row = row.held("not sent: its trigger was held back and never sent")
        built.append(row)
    return built


def lane_page(
    notification: Notification,
    connector_name: str,
    incident: dict[str, Any],
    body: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> OutboxRow:
    return rows.page(
        notification,
        connector_id=incident.get("connector_id"),
        connector_name=connector_name,
        lane=incident,
        body=body,
        endpoint=settings.pagerduty_endpoint(incident["region"]),
        now=now,
    )


def lane_severity(incident: dict[str, Any]) -> Severity | None:
    """What the lane was paged (or held) at; None for a lane not paged yet."""
    value = incident.get("severity")
    return None if value is None else Severity(value)


def _new_incident(target: Target, key: str, now: datetime) -> dict[str, Any]:
    return {
        "connector_id": target.id,
        "dedup_key": key,
        "routing_key": target.routing_key,
        "key_fingerprint": target.key_fingerprint,
        "region": target.region,
        "opened_at": now,
        "announced": False,
        "held": False,
        "severity": None,
        "triggered_at": None,
        "storm_id": None,
        "resolved_in_pagerduty_at": None,
    }


def _incidents(connection: Connection, keys: Iterable[str]) -> dict[Lane, dict[str, Any]]:
    found: dict[Lane, dict[str, Any]] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        rows = connection.execute(
            select(incidents).where(incidents.c.dedup_key.in_(ordered[start : start + _CHUNK]))
        )
        for row in rows:
            found[(row.connector_id, row.dedup_key)] = dict(row._mapping)
    return found


def _save_incidents(
    connection: Connection, stored: set[Lane], lanes: dict[Lane, dict[str, Any]]
) -> None:
    """Replace what changed: delete every stored lane touched, insert what is still open."""
    if stored:
        connection.execute(
            delete(incidents).where(
                and_(
                    incidents.c.connector_id == bindparam("cid"),
                    incidents.c.dedup_key == bindparam("key"),
                )
            ),
            [{"cid": cid, "key": key} for cid, key in stored],
        )
    if lanes:
        connection.execute(insert(incidents), list(lanes.values()))


def enqueue_test(
    connection: Connection,
    notification: Notification,
    target: Target,
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """A connector's test trigger (or its resolve): straight to that connector, first in line,
    never suppressed — an operator pressing "Send test event" wants to see it arrive."""
    incident = _new_incident(target, notification.dedup_key, now)
    if notification.action is Action.TRIGGER:
        body = trigger_body(notification, PLACEHOLDER_KEY, base_url=settings.base_url)
    else:
        body = resolve_body(notification.dedup_key, PLACEHOLDER_KEY)
    row = lane_page(notification, target.name, incident, body, settings, now)
    return insert_one(connection, row.first_in_line(notification.at))

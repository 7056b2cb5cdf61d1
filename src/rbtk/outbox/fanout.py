"""PagerDuty fan-out: notifications become outbox rows per connector, in the caller's
transaction, with the incidents table recording where each trigger went.

A trigger is routed (rules, defaults), then each connector takes it or not by its own
toggles, severity cap and what its lane was already sent (`rbtk.routing.lanes`), and it is held
back while a suppression window covers the connector. A resolve goes exactly where its
trigger went, with the key that sent it and the severity it was sent at, window or not.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from rbtk.channels.pagerduty_body import resolve_body, trigger_body
from rbtk.outbox.queue import Status, priority
from rbtk.policy import engine
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Notification
from rbtk.routing.lanes import admits
from rbtk.routing.pagerduty import Target, load_rules, load_targets, targets
from rbtk.routing.suppression import Window, covering, load_ended, load_open
from rbtk.runtime.settings import Settings
from rbtk.store import state as stored
from rbtk.store.tables import connectors, incidents, outbox, suppressions

PLACEHOLDER_KEY = "0" * 32  # bodies are sized with a key-long stand-in; the key is added late
_CHUNK = 500

Lane = tuple[int, str]  # (connector id, dedup key)


@dataclass(frozen=True)
class FanOut:
    queued: int  # rows that will really be sent
    paging_events: frozenset[str]  # ids of events that reached some connector's log


def enqueue(
    connection: Connection,
    notifications: Sequence[Notification],
    *,
    settings: Settings,
    now: datetime,
) -> FanOut:
    """Queue rows for these notifications, in the caller's transaction."""
    if not notifications:
        return FanOut(0, frozenset())
    candidates = load_targets(connection)
    rules = load_rules(connection)
    windows = load_open(connection, now)
    lanes = _incidents(connection, {n.dedup_key for n in notifications})
    stored = set(lanes)
    names = {t.id: t.name for t in candidates}
    rows: list[dict[str, Any]] = []
    for notification in notifications:
        key = notification.dedup_key
        if notification.action is Action.TRIGGER:
            for target in targets(notification, rules, candidates):
                lane = (target.id, key)
                incident = lanes.get(lane) or _new_incident(target, key, now)
                severity = admits(notification, target.audience, _severity(incident))
                if severity is None:
                    continue
                incident["severity"] = severity.value
                lanes[lane] = incident
                sent = replace(notification, severity=severity)
                body = trigger_body(sent, PLACEHOLDER_KEY, base_url=settings.base_url)
                row = pagerduty_row(sent, target.name, incident, body, settings, now)
                _hold_or_announce(row, incident, covering(windows, target.id, now))
                rows.append(row)
        else:
            for lane in sorted(lane for lane in lanes if lane[1] == key):
                incident = lanes.pop(lane)
                body = resolve_body(key, PLACEHOLDER_KEY)
                name = names.get(lane[0], "(removed)")
                closing = replace(
                    notification, severity=_severity(incident) or notification.severity
                )
                row = pagerduty_row(closing, name, incident, body, settings, now)
                if not incident["announced"]:
                    # Opened and cleared inside a window: PagerDuty never heard of it.
                    row["status"] = Status.SUPPRESSED.value
                    row["message"] = "not sent: its trigger was held back and never sent"
                rows.append(row)
    _save_incidents(connection, stored, lanes)
    if rows:
        connection.execute(insert(outbox), rows)
    return FanOut(
        sum(row["status"] == Status.QUEUED.value for row in rows),
        frozenset(row["event_id"] for row in rows if row["event_id"]),
    )


def release_held(connection: Connection, *, settings: Settings, now: datetime) -> int:
    """When windows end, trigger once every condition still firing whose trigger was held.

    Each is sent at the severity its lane was last held at, with a body rebuilt now, so it
    says how things are when it is sent ("offline for 70 minutes"), not when it was held.
    """
    ended = load_ended(connection, now, _CHUNK)
    if not ended:
        return 0
    still_open = load_open(connection, now)
    released = [w for w in ended if covering(still_open, w.connector_id, now) is None]
    queued = 0
    for connector_id in {w.connector_id for w in released}:
        queued += _release_connector(connection, connector_id, settings, now)
    connection.execute(
        update(suppressions)
        .where(suppressions.c.id.in_([w.id for w in ended]))
        .values(released_at=now)
    )
    return queued


def _release_connector(
    connection: Connection, connector_id: int, settings: Settings, now: datetime
) -> int:
    held = {
        row.dedup_key: dict(row._mapping)
        for row in connection.execute(
            select(incidents).where(
                incidents.c.connector_id == connector_id, incidents.c.held.is_(True)
            )
        )
    }
    if not held:
        return 0
    name = connection.execute(
        select(connectors.c.name).where(connectors.c.id == connector_id)
    ).scalar_one()
    firing = stored.load(connection, held, ()).conditions
    causes = _held_causes(connection, connector_id, sorted(held))
    rows = []
    for key, incident in held.items():
        condition = firing.get(key)
        if condition is None or condition.severity is None:
            continue  # cleared while held: its resolve already closed the lane
        notification = engine.page(condition, now, event_id=causes.get(key))
        severity = _severity(incident) or notification.severity
        notification = replace(notification, severity=severity)
        body = trigger_body(notification, PLACEHOLDER_KEY, base_url=settings.base_url)
        rows.append(pagerduty_row(notification, name, incident, body, settings, now))
    if rows:
        connection.execute(insert(outbox), rows)
    connection.execute(
        update(incidents)
        .where(incidents.c.connector_id == connector_id, incidents.c.held.is_(True))
        .values(held=False, announced=True)
    )
    return len(rows)


def _held_causes(connection: Connection, connector_id: int, keys: list[str]) -> dict[str, str]:
    """The event behind each lane's latest held trigger, so the sent row links to it."""
    causes: dict[str, str] = {}
    for start in range(0, len(keys), _CHUNK):
        rows = connection.execute(
            select(outbox.c.dedup_key, outbox.c.event_id)
            .where(
                outbox.c.connector_id == connector_id,
                outbox.c.action == Action.TRIGGER.value,
                outbox.c.status == Status.SUPPRESSED.value,
                outbox.c.dedup_key.in_(keys[start : start + _CHUNK]),
            )
            .order_by(outbox.c.id)
        )
        for found in rows:
            if found.event_id is not None:
                causes[found.dedup_key] = found.event_id
    return causes


def pagerduty_row(
    notification: Notification,
    connector_name: str,
    incident: dict[str, Any],
    body: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    body.pop("routing_key")
    return {
        "channel": "pagerduty",
        "connector_id": incident.get("connector_id"),
        "connector_name": connector_name,
        "destination": incident["routing_key"],
        "key_fingerprint": incident["key_fingerprint"],
        "endpoint": settings.pagerduty_endpoint(incident["region"]),
        "event_id": notification.event_id,
        "event_type": notification.event_type,
        "dedup_key": body["dedup_key"],
        "action": notification.action.value,
        "severity": notification.severity.value,
        "priority": priority(notification.action, notification.severity),
        "body": body,
        "status": Status.QUEUED.value,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        # Every row carries every key: one executemany insert takes them all together.
        "message": None,
        "suppression_id": None,
    }


def _hold_or_announce(row: dict[str, Any], incident: dict[str, Any], window: Window | None) -> None:
    if window is None:
        incident["announced"], incident["held"] = True, False
        return
    incident["held"] = True
    row["status"] = Status.SUPPRESSED.value
    row["suppression_id"] = window.id
    row["message"] = f"held back by suppression #{window.id}: {window.reason}"


def _severity(incident: dict[str, Any]) -> Severity | None:
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
    row = pagerduty_row(notification, target.name, incident, body, settings, now)
    row["priority"] = -1
    row["next_attempt_at"] = notification.at
    result = connection.execute(insert(outbox).returning(outbox.c.id), [row])
    return int(result.scalar_one())

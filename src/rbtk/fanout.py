"""PagerDuty fan-out: notifications become outbox rows per connector, in the caller's
transaction, with the incidents table recording where each trigger went.

A trigger is routed (rules, defaults), filtered by the connector's toggles, capped at its
severity cap, and held back while a suppression window covers the connector. A resolve
goes exactly where its trigger went, with the key that sent it, window or not.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from rbtk.channels.pagerduty_body import resolve_body, trigger_body
from rbtk.outbox import Status, priority
from rbtk.policy.state import Action, Notification
from rbtk.routing import Target, capped, load_rules, load_targets, targets
from rbtk.settings import Settings
from rbtk.store.tables import incidents, outbox, suppressions
from rbtk.suppression import Window, covering, load_ended, load_open
from rbtk.timefmt import format_rfc3339

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
                lanes[lane] = incident
                sent = replace(notification, severity=capped(notification.severity, target))
                body = trigger_body(sent, PLACEHOLDER_KEY, base_url=settings.base_url)
                row = pagerduty_row(sent, target.name, incident, body, settings, now)
                _hold_or_announce(row, incident, covering(windows, target.id, now))
                rows.append(row)
        else:
            for lane in [lane for lane in lanes if lane[1] == key]:
                incident = lanes.pop(lane)
                body = resolve_body(key, PLACEHOLDER_KEY)
                name = names.get(lane[0], "(removed)")
                row = pagerduty_row(notification, name, incident, body, settings, now)
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

    Each held incident is sent with its latest held-back body: its current severity.
    """
    ended = load_ended(connection, now, _CHUNK)
    if not ended:
        return 0
    still_open = load_open(connection, now)
    released = [w for w in ended if covering(still_open, w.connector_id, now) is None]
    queued = 0
    for connector_id in {w.connector_id for w in released}:
        queued += _release_connector(connection, connector_id, now)
    connection.execute(
        update(suppressions)
        .where(suppressions.c.id.in_([w.id for w in ended]))
        .values(released_at=now)
    )
    return queued


def _release_connector(connection: Connection, connector_id: int, now: datetime) -> int:
    held = [
        row.dedup_key
        for row in connection.execute(
            select(incidents.c.dedup_key).where(
                incidents.c.connector_id == connector_id, incidents.c.held.is_(True)
            )
        )
    ]
    latest: dict[str, dict[str, Any]] = {}
    for start in range(0, len(held), _CHUNK):
        chunk = held[start : start + _CHUNK]
        rows = connection.execute(
            select(outbox)
            .where(
                outbox.c.connector_id == connector_id,
                outbox.c.action == Action.TRIGGER.value,
                outbox.c.status == Status.SUPPRESSED.value,
                outbox.c.dedup_key.in_(chunk),
            )
            .order_by(outbox.c.id)
        )
        for found in rows:
            latest[found.dedup_key] = dict(found._mapping)
    copies = []
    for row in latest.values():
        body = dict(row["body"])
        body["payload"] = {**body["payload"], "timestamp": format_rfc3339(now)}
        copy = {k: v for k, v in row.items() if k != "id"}
        copies.append(
            {
                **copy,
                "body": body,
                "status": Status.QUEUED.value,
                "created_at": now,
                "next_attempt_at": now,
                "message": None,
                "suppression_id": None,
            }
        )
    if copies:
        connection.execute(insert(outbox), copies)
    if held:
        connection.execute(
            update(incidents)
            .where(incidents.c.connector_id == connector_id, incidents.c.held.is_(True))
            .values(held=False, announced=True)
        )
    return len(copies)


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

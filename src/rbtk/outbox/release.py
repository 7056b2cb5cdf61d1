"""Held triggers sent at last: when suppression windows end, and when a storm ends.

Each condition still firing is triggered once, at the severity its lane was last held at,
with a body rebuilt now, so it says how things are when it is sent ("offline for 70
minutes"), not when it was held. One that cleared while held was closed by its resolve and
is not sent.

What a window held is released through the storm gate: a window ending over a fleet-wide
outage opens a storm instead of paging every pool. A storm's own members are released when
it ends (then fewer than its threshold still fire), one by one.
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, bindparam, select, update

from rbtk.channels.pagerduty_body import trigger_body
from rbtk.outbox.fanout import PLACEHOLDER_KEY, lane_page, lane_severity
from rbtk.outbox.rows import OutboxRow, insert_rows
from rbtk.outbox.status import Status
from rbtk.outbox.storms import Gate
from rbtk.policy import engine
from rbtk.policy.rules import Rule
from rbtk.policy.state import Action
from rbtk.routing.pagerduty import Target
from rbtk.routing.snapshot import Snapshot
from rbtk.routing.suppression import covering, load_ended, load_open
from rbtk.runtime.settings import Settings
from rbtk.store import state as stored
from rbtk.store.tables import connectors, incidents, outbox, suppressions

_CHUNK = 500


def release_held(
    connection: Connection, *, settings: Settings, config: Snapshot, now: datetime
) -> int:
    """When windows end, trigger every condition still firing whose trigger they held."""
    ended = load_ended(connection, now, _CHUNK)
    if not ended:
        return 0
    still_open = load_open(connection, now)
    released = [w for w in ended if covering(still_open, w.connector_id, now) is None]
    gate = Gate(connection, config.storms, now)
    targets = {t.id: t for t in config.targets}
    queued = 0
    for connector_id in sorted({w.connector_id for w in released}):
        queued += _release(
            connection,
            connector_id,
            incidents.c.storm_id.is_(None),
            settings=settings,
            now=now,
            gate=gate,
            target=targets.get(connector_id),
            runbooks=config.runbooks,
        )
    connection.execute(
        update(suppressions)
        .where(suppressions.c.id.in_([w.id for w in ended]))
        .values(released_at=now)
    )
    return queued


def release_storm(
    connection: Connection,
    *,
    storm_id: int,
    connector_id: int,
    settings: Settings,
    runbooks: Mapping[Rule, str],
    now: datetime,
) -> int:
    """When a storm ends, trigger every member still firing."""
    return _release(
        connection,
        connector_id,
        incidents.c.storm_id == storm_id,
        settings=settings,
        now=now,
        runbooks=runbooks,
    )


def _release(
    connection: Connection,
    connector_id: int,
    which: ColumnElement[bool],
    *,
    settings: Settings,
    now: datetime,
    gate: Gate | None = None,
    target: Target | None = None,
    runbooks: Mapping[Rule, str],
) -> int:
    """Release the connector's held lanes `which` selects; the storm `gate` may keep a lane
    held, as a member of `target`'s storm. Answer how many triggers were queued."""
    held = {
        row.dedup_key: dict(row._mapping)
        for row in connection.execute(
            select(incidents).where(
                incidents.c.connector_id == connector_id, incidents.c.held.is_(True), which
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
    built: list[OutboxRow] = []
    sent: list[str] = []
    members: dict[str, int] = {}
    for key in sorted(held, key=lambda k: (held[k]["opened_at"], k)):
        incident, condition = held[key], firing.get(key)
        if condition is None or condition.severity is None:
            continue  # cleared while held: its resolve already closed the lane
        notification = engine.page(condition, now, event_id=causes.get(key))
        severity = lane_severity(incident) or notification.severity
        notification = replace(notification, severity=severity)
        body = trigger_body(
            notification, PLACEHOLDER_KEY, base_url=settings.base_url, runbooks=runbooks
        )
        row = lane_page(notification, name, incident, body, settings, now)
        storm = gate.admit(target) if gate is not None and target is not None else None
        if storm is None:
            sent.append(key)
        else:
            members[key] = storm.id
            row = row.held(storm.reason, storm_id=storm.id)
        built.append(row)
    insert_rows(connection, built)
    _mark(connection, connector_id, sent, members, now)
    return len(sent)


def _mark(
    connection: Connection,
    connector_id: int,
    sent: list[str],
    members: dict[str, int],
    now: datetime,
) -> None:
    where = (incidents.c.connector_id == connector_id, incidents.c.dedup_key == bindparam("key"))
    if sent:
        connection.execute(
            update(incidents)
            .where(*where)
            .values(held=False, announced=True, storm_id=None, triggered_at=now),
            [{"key": key} for key in sent],
        )
    if members:
        connection.execute(
            update(incidents).where(*where).values(storm_id=bindparam("storm")),
            [{"key": key, "storm": storm} for key, storm in members.items()],
        )


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

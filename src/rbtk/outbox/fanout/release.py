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

from sqlalchemy import ColumnElement, Connection, select, update

from rbtk.outbox.pipeline.lanes import Lane, save_lanes
from rbtk.outbox.pipeline.stages import RELEASE_STAGES, Paging, Send, page_rows, through
from rbtk.outbox.pipeline.storm_gate import Gate
from rbtk.outbox.rows import insert_rows
from rbtk.outbox.status import Status
from rbtk.policy import engine
from rbtk.policy.rules import Rule
from rbtk.policy.state import Action
from rbtk.routing.pagerduty import Target
from rbtk.routing.snapshot import Snapshot
from rbtk.routing.suppression import covering, load_ended, load_open
from rbtk.runtime.settings import Settings
from rbtk.store import policy_state
from rbtk.store.tables import incidents, outbox, suppressions

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
        target = targets.get(connector_id)
        if target is None:
            continue  # removed: its lanes went with it
        queued += _release(
            connection,
            target,
            incidents.c.storm_id.is_(None),
            settings=settings,
            now=now,
            gate=gate,
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
    target: Target,
    settings: Settings,
    runbooks: Mapping[Rule, str],
    now: datetime,
) -> int:
    """When a storm ends, trigger every member still firing."""
    return _release(
        connection,
        target,
        incidents.c.storm_id == storm_id,
        settings=settings,
        now=now,
        runbooks=runbooks,
    )


def _release(
    connection: Connection,
    target: Target,
    which: ColumnElement[bool],
    *,
    settings: Settings,
    now: datetime,
    gate: Gate | None = None,
    runbooks: Mapping[Rule, str],
) -> int:
    """Release `target`'s held lanes `which` selects, through the pipeline's release stages:
    the storm `gate` may keep a new incident held, as a member of the connector's storm.
    Answer how many triggers were queued."""
    held = [
        Lane.stored(row)
        for row in connection.execute(
            select(incidents).where(
                incidents.c.connector_id == target.id, incidents.c.held.is_(True), which
            )
        )
    ]
    if not held:
        return 0
    firing = policy_state.load(connection, {lane.dedup_key for lane in held}, ()).conditions
    causes = _held_causes(connection, target.id, sorted(lane.dedup_key for lane in held))
    releasing = {}
    sends = []
    for lane in sorted(held, key=lambda lane: (lane.opened_at, lane.dedup_key)):
        condition = firing.get(lane.dedup_key)
        if condition is None or condition.severity is None:
            continue  # cleared while held: its resolve already closed the lane
        notification = engine.page(condition, now, event_id=causes.get(lane.dedup_key))
        severity = lane.severity or notification.severity
        sends.append(Send(replace(notification, severity=severity), target, severity))
        releasing[lane.id] = replace(lane, held=False, storm_id=None)
    paging = Paging([target], [], [], dict(releasing), now, gate=gate, runbooks=runbooks)
    built = page_rows(through(sends, paging, RELEASE_STAGES), paging, settings)
    save_lanes(connection, releasing, paging.lanes)
    insert_rows(connection, built)
    return sum(row.status == Status.QUEUED.value for row in built)


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

"""What the pages, the CLI and the API show of storms: each storm, and every member it held.

A member is a trigger a storm held (`outbox.storm_id`). Its state now: still held, paged on
its own when the storm ended (still firing then), or cleared while held (PagerDuty never
heard of it).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, and_, func, select

from rbtk.outbox.status import Status
from rbtk.policy.state import Action
from rbtk.runtime.errors import NotFound
from rbtk.store.tables import incidents, outbox, storms

LIST_LIMIT = 50


class UnknownStorm(NotFound):
    def __init__(self, storm_id: int) -> None:
        super().__init__(f"no storm #{storm_id}")


class MemberState(StrEnum):
    HELD = "held"
    PAGED = "paged when the storm ended"
    CLEARED = "cleared while held"


@dataclass(frozen=True)
class StormView:
    id: int
    connector: str
    dedup_key: str  # the umbrella's
    started_at: datetime
    ended_at: datetime | None
    members: int  # every incident it held
    held: int  # members still held
    peak: int  # most members firing at once
    released: int | None  # paged one by one when it ended
    summary: str | None  # the umbrella's, as last sent
    severity: str | None

    @property
    def open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class Member:
    row_id: int  # the held trigger's delivery-log row
    dedup_key: str
    severity: str
    summary: str
    held_at: datetime
    event_id: str | None
    state: MemberState


def list_storms(connection: Connection, *, limit: int = LIST_LIMIT) -> list[StormView]:
    """The newest storms first, open or ended."""
    rows = connection.execute(select(storms).order_by(storms.c.id.desc()).limit(limit)).all()
    return _views(connection, rows)


def get_storm(connection: Connection, storm_id: int) -> StormView:
    row = connection.execute(select(storms).where(storms.c.id == storm_id)).first()
    if row is None:
        raise UnknownStorm(storm_id)
    [view] = _views(connection, [row])
    return view


def members(
    connection: Connection, storm: StormView, *, after: int | None = None, limit: int = 200
) -> list[Member]:
    """The storm's members in the order it held them, `limit` after the row id `after`."""
    storm_id = storm.id
    query = (
        select(outbox.c.id, outbox.c.dedup_key, outbox.c.severity, outbox.c.body,
               outbox.c.created_at, outbox.c.event_id)
        .where(outbox.c.storm_id == storm_id, outbox.c.action == Action.TRIGGER.value)
        .order_by(outbox.c.id).limit(limit)
    )  # fmt: skip
    if after is not None:
        query = query.where(outbox.c.id > after)
    rows = connection.execute(query).all()
    keys = [row.dedup_key for row in rows]
    held = set(
        connection.execute(
            select(incidents.c.dedup_key).where(
                incidents.c.storm_id == storm_id, incidents.c.dedup_key.in_(keys)
            )
        ).scalars()
    )
    paged = _paged_after(connection, storm.connector, keys, storm.ended_at) if keys else set()
    return [
        Member(
            row_id=row.id,
            dedup_key=row.dedup_key,
            severity=row.severity,
            summary=str(row.body.get("payload", {}).get("summary", "")),
            held_at=row.created_at,
            event_id=row.event_id,
            state=MemberState.HELD
            if row.dedup_key in held
            else MemberState.PAGED
            if row.dedup_key in paged
            else MemberState.CLEARED,
        )
        for row in rows
    ]


def _paged_after(
    connection: Connection, connector: str, keys: list[str], ended_at: datetime | None
) -> set[str]:
    """Which of these lanes had a trigger queued to be sent when the storm ended."""
    if ended_at is None:
        return set()
    return set(
        connection.execute(
            select(outbox.c.dedup_key).where(
                outbox.c.connector_name == connector,
                outbox.c.dedup_key.in_(keys),
                outbox.c.action == Action.TRIGGER.value,
                outbox.c.created_at == ended_at,
                outbox.c.status != Status.SUPPRESSED.value,
            )
        ).scalars()
    )


def _views(connection: Connection, rows: Sequence[Row[Any]]) -> list[StormView]:
    ids = [row.id for row in rows]
    counted = connection.execute(
        select(outbox.c.storm_id, func.count(func.distinct(outbox.c.dedup_key)))
        .where(outbox.c.storm_id.in_(ids), outbox.c.action == Action.TRIGGER.value)
        .group_by(outbox.c.storm_id)
    ).all()
    held = connection.execute(
        select(incidents.c.storm_id, func.count())
        .where(and_(incidents.c.storm_id.in_(ids), incidents.c.held.is_(True)))
        .group_by(incidents.c.storm_id)
    ).all()
    members_of = {storm_id: n for storm_id, n in counted}
    held_of = {storm_id: n for storm_id, n in held}
    return [
        StormView(
            id=row.id,
            connector=row.connector_name,
            dedup_key=row.dedup_key,
            started_at=row.started_at,
            ended_at=row.ended_at,
            members=members_of.get(row.id, 0),
            held=held_of.get(row.id, 0),
            peak=row.peak,
            released=row.released,
            summary=row.umbrella_summary,
            severity=row.umbrella_severity,
        )
        for row in rows
    ]

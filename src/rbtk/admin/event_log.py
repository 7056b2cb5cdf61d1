"""Received events as operators read them: recent ones with whether each paged, and one event
with what it changed and the reasons it did not page where it did not.

The reasons are written as the event is applied (`rbtk.intake.ingest`): the policy's ("pull
request #42: runs on pull requests never page", "pending (pool_offline): offline for 7 min:
…") and fan-out's ("rule pool_offline is switched off on pd-staging", "held on pd-prod:
suppression #3 until …"). What the event is now part of is read when asked: the incidents
it opened or touched that are still open, and every delivery row it queued.

    NotFound ── UnknownEvent — no event has that id
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from rbtk.admin import incidents
from rbtk.admin.incidents import IncidentView
from rbtk.channels import registry
from rbtk.outbox.log import delivery_log
from rbtk.policy import engine
from rbtk.policy.events import EventError, parse_event
from rbtk.runtime.errors import NotFound
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.tables import conditions, events

MAX_LIMIT = 500
MAX_DELIVERIES = 100  # an event's own rows: one per connector or channel, a few more held


class UnknownEvent(NotFound):
    def __init__(self, event_id: str) -> None:
        super().__init__(f"no event has id {event_id!r}")


@dataclass(frozen=True)
class EventView:
    id: str
    type: str
    project: str
    occurred_at: datetime
    received_at: datetime
    data: dict[str, Any]
    paged: bool | None  # None: stored before rbtk kept what events did
    reasons: list[str]
    # Each connector's decision on each page it started (`rbtk.outbox.pipeline.stages.Note`).
    decisions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class EventDetail:
    event: EventView
    incidents: list[IncidentView]  # what it opened or touched, still open now
    deliveries: list[dict[str, Any]]  # the rows it queued, as the delivery log shows them


def list_events(
    connection: Connection,
    *,
    project: str | None = None,
    event_type: str | None = None,
    paged: bool | None = None,
    before: str | None = None,
    limit: int = 50,
) -> list[EventView]:
    """Newest first (by when rbtk received them), `limit` older than the event `before`."""
    query = select(events).order_by(events.c.received_at.desc(), events.c.id.desc()).limit(limit)
    if project is not None:
        query = query.where(events.c.project_slug == project)
    if event_type is not None:
        query = query.where(events.c.type == event_type)
    if paged is not None:
        query = query.where(events.c.paged.is_(paged))
    if before is not None:
        mark = connection.execute(
            select(events.c.received_at).where(events.c.id == before)
        ).scalar()
        if mark is None:
            raise UnknownEvent(before)
        query = query.where(
            or_(
                events.c.received_at < mark,
                and_(events.c.received_at == mark, events.c.id < before),
            )
        )
    return [_view(row._mapping) for row in connection.execute(query)]


def get(
    connection: Connection, event_id: str, *, rates: dict[str, int], now: datetime
) -> EventDetail:
    row = connection.execute(select(events).where(events.c.id == event_id)).first()
    if row is None:
        raise UnknownEvent(event_id)
    view = _view(row._mapping)
    keys = sorted(_condition_keys(view))
    open_keys = (
        connection.execute(select(conditions.c.key).where(conditions.c.key.in_(keys)))
        .scalars()
        .all()
    )
    touched = [incidents.get(connection, key, now=now) for key in open_keys]
    deliveries = delivery_log.query(
        connection,
        channels=tuple(registry.CHANNELS),
        event_id=event_id,
        limit=MAX_DELIVERIES,
        rates=rates,
        now=now,
    ).deliveries
    return EventDetail(view, touched, deliveries)


def event_json(view: EventView) -> dict[str, Any]:
    return {
        "id": view.id,
        "type": view.type,
        "project": view.project,
        "occurred_at": format_rfc3339(view.occurred_at),
        "received_at": format_rfc3339(view.received_at),
        "paged": view.paged,
        "reasons": view.reasons,
        "decisions": view.decisions,
        "data": view.data,
    }


def _condition_keys(view: EventView) -> frozenset[str]:
    """The conditions the event could open or close (none for a type rbtk does not know)."""
    if view.type == incidents.RESOLVED_BY_HAND:
        return frozenset({view.data["dedup_key"]})
    raw = {
        "id": view.id,
        "type": view.type,
        "project_slug": view.project,
        "occurred_at": format_rfc3339(view.occurred_at),
        "data": view.data,
    }
    try:
        return engine.scope(parse_event(raw)).condition_keys
    except EventError:  # stored under an older schema: its incidents are not found by key
        return frozenset()


def _view(row: Any) -> EventView:
    return EventView(
        id=row["id"],
        type=row["type"],
        project=row["project_slug"],
        occurred_at=row["occurred_at"],
        received_at=row["received_at"],
        data=row["data"],
        paged=row["paged"],
        reasons=list(row["reasons"] or []),
        decisions=list(row["decisions"] or []),
    )

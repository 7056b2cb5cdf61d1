"""Storms: /api/v1/pagerduty/storms[/{id}] (admin tokens only).

    GET /storms                          200 {"storms": [Storm]}, the newest first
    GET /storms/{id}?after_id=&limit=    200 {"storm": Storm, "members": [Member],
                                              "next_after_id"}; 404

    Storm   {"id", "connector", "dedup_key" (the umbrella's), "state": open|ended,
             "started_at", "ended_at", "members", "held", "peak", "released", "summary",
             "severity"}
    Member  {"delivery_id", "dedup_key", "severity", "summary", "held_at", "event_id",
             "state": "held" | "paged when the storm ended" | "cleared while held"}

Members come in the order the storm held them; `next_after_id` fetches the next page (null
on the last).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from rbtk.api.deps import Admin, Ctx
from rbtk.api.schema import MAX_ID, RowId, errors
from rbtk.outbox.storms import history
from rbtk.outbox.storms.history import Member, StormView
from rbtk.runtime.timefmt import format_rfc3339

router = APIRouter(
    prefix="/api/v1/pagerduty",
    tags=["storms"],
    dependencies=[Admin],
    responses=errors(400, 401, 403, 422),
)

MAX_LIMIT = 1000


class StormOut(BaseModel):
    id: int
    connector: str
    dedup_key: str
    state: Literal["open", "ended"]
    started_at: str
    ended_at: str | None
    members: int
    held: int
    peak: int
    released: int | None
    summary: str | None
    severity: str | None


class StormsOut(BaseModel):
    storms: list[StormOut]


class MemberOut(BaseModel):
    delivery_id: int
    dedup_key: str
    severity: str
    summary: str
    held_at: str
    event_id: str | None
    state: Literal["held", "paged when the storm ended", "cleared while held"]


class StormMembersOut(BaseModel):
    storm: StormOut
    members: list[MemberOut]
    next_after_id: int | None


@router.get("/storms", response_model=StormsOut)
def list_storms(context: Ctx) -> dict[str, Any]:
    with context.reads.connect() as connection:
        return {"storms": [storm_json(view) for view in history.list_storms(connection)]}


@router.get("/storms/{storm_id}", response_model=StormMembersOut, responses=errors(404))
def show_storm(
    storm_id: RowId,
    context: Ctx,
    after_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 200,
) -> dict[str, Any]:
    with context.reads.connect() as connection:
        view = history.get_storm(connection, storm_id)
        found = history.members(connection, view, after=after_id, limit=limit + 1)
    page = found[:limit]
    return {
        "storm": storm_json(view),
        "members": [_member(m) for m in page],
        "next_after_id": page[-1].row_id if len(found) > limit else None,
    }


def storm_json(view: StormView) -> dict[str, Any]:
    return {
        "id": view.id,
        "connector": view.connector,
        "dedup_key": view.dedup_key,
        "state": "open" if view.open else "ended",
        "started_at": format_rfc3339(view.started_at),
        "ended_at": None if view.ended_at is None else format_rfc3339(view.ended_at),
        "members": view.members,
        "held": view.held,
        "peak": view.peak,
        "released": view.released,
        "summary": view.summary,
        "severity": view.severity,
    }


def _member(member: Member) -> dict[str, Any]:
    return {
        "delivery_id": member.row_id,
        "dedup_key": member.dedup_key,
        "severity": member.severity,
        "summary": member.summary,
        "held_at": format_rfc3339(member.held_at),
        "event_id": member.event_id,
        "state": member.state.value,
    }

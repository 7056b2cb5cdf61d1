"""Suppression windows: /api/v1/pagerduty/suppressions[/{id}[/end]] (admin tokens only).

    GET  /suppressions?connector=&include_ended=   200 {"suppressions": [Window]}, active and
                                                   scheduled ones unless include_ended; 404
    POST /suppressions                             201 {"suppressions": [Window]}, one per
                                                   connector; 404 unknown connector; 422
    GET  /suppressions/{id}                        200 Window; 404
    POST /suppressions/{id}/end                    200 Window, ended now; 404; 409 already over

    Create  {"connector": NAME} or {"all_connectors": true}, "reason": TEXT, and
            "ends_at": RFC 3339 or "duration_s": seconds from the start; "starts_at"
            (RFC 3339) defaults to now. Times need a timezone.
    Window  {"id", "connector", "state": scheduled|active|ended, "starts_at", "ends_at",
             "reason", "created_by", "created_at", "ended_early_at", "ended_by" (the name
             of the token that ended it early), "released_at"}

Each write wakes the scheduler: it sends held-back triggers when a window ends.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat

from rbtk.admin import suppressions
from rbtk.admin.suppressions import WindowView
from rbtk.api.deps import Admin, CallerName, Ctx
from rbtk.api.errors import ApiError
from rbtk.api.schema import SLUG_NAME, TIMESTAMP, Body, RowId, declared, errors
from rbtk.runtime.timefmt import format_rfc3339, parse_rfc3339

router = APIRouter(
    prefix="/api/v1/pagerduty",
    tags=["suppressions"],
    dependencies=[Admin],
    responses=errors(400, 401, 403, 422),
)

MAX_DURATION_S = 366 * 24 * 3600


def _either(
    first: str, first_value: dict[str, Any], second: str, second_value: dict[str, Any]
) -> dict[str, Any]:
    """One of two fields, as the service asks: the other left out, null or false."""
    absent = {"anyOf": [{"type": "null"}, {"const": False}]}
    return {
        "oneOf": [
            {"required": [first], "properties": {first: first_value, second: absent}},
            {"required": [second], "properties": {second: second_value, first: absent}},
        ]
    }


class WindowIn(Body):
    # Which connectors, and when it ends: each one of two fields (a 422 otherwise).
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                _either("connector", {"type": "string"}, "all_connectors", {"const": True}),
                _either("ends_at", {"type": "string"}, "duration_s", {"type": "number"}),
            ]
        }
    )

    connector: Annotated[str, SLUG_NAME] | None = None
    all_connectors: StrictBool = False
    starts_at: Annotated[str, declared(**TIMESTAMP)] | None = None
    ends_at: Annotated[str, declared(**TIMESTAMP)] | None = None
    duration_s: StrictFloat | None = Field(default=None, gt=0, le=MAX_DURATION_S)
    reason: Annotated[
        str, declared(minLength=1, maxLength=1000, pattern="^[^\\x00]*[^\\x00\\s][^\\x00]*$")
    ]


class WindowOut(BaseModel):
    id: int
    connector: str
    state: Literal["scheduled", "active", "ended"]
    starts_at: str
    ends_at: str
    reason: str
    created_by: str
    created_at: str
    ended_early_at: str | None
    ended_by: str | None
    released_at: str | None


class WindowsOut(BaseModel):
    suppressions: list[WindowOut]


@router.get("/suppressions", response_model=WindowsOut, responses=errors(404))
def list_windows(
    context: Ctx, connector: str | None = None, include_ended: bool = False
) -> dict[str, Any]:
    now = datetime.now(UTC)
    with context.reads.connect() as connection:
        views = suppressions.list_windows(
            connection, connector=connector, include_ended=include_ended, now=now
        )
    return {"suppressions": [window_json(v, now) for v in views]}


@router.post("/suppressions", status_code=201, response_model=WindowsOut, responses=errors(404))
def create_window(request: WindowIn, context: Ctx, caller: CallerName) -> dict[str, Any]:
    now = datetime.now(UTC)
    starts_at = _time("starts_at", request.starts_at)
    if (request.ends_at is None) == (request.duration_s is None):
        message = (
            "give ends_at or duration_s, not both"
            if request.ends_at is not None
            else "give ends_at, or duration_s: how long from the start"
        )
        raise ApiError(422, message, [message])
    ends_at = _time("ends_at", request.ends_at)
    if ends_at is None and request.duration_s is not None:
        ends_at = (starts_at or now) + timedelta(seconds=request.duration_s)
    assert ends_at is not None  # one of the two was given
    with context.engine.begin() as connection:
        views = suppressions.create(
            connection,
            connector=request.connector,
            all_connectors=request.all_connectors,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=request.reason,
            by=caller,
            now=now,
        )
    context.wake_scheduler()
    return {"suppressions": [window_json(v, now) for v in views]}


@router.get("/suppressions/{window_id}", response_model=WindowOut, responses=errors(404))
def show_window(window_id: RowId, context: Ctx) -> dict[str, Any]:
    with context.reads.connect() as connection:
        view = suppressions.get(connection, window_id)
    return window_json(view, datetime.now(UTC))


@router.post("/suppressions/{window_id}/end", response_model=WindowOut, responses=errors(404, 409))
def end_window(window_id: RowId, context: Ctx, caller: CallerName) -> dict[str, Any]:
    now = datetime.now(UTC)
    with context.engine.begin() as connection:
        view = suppressions.end(connection, window_id, by=caller, now=now)
    context.wake_scheduler()
    return window_json(view, now)


def _time(field: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise ApiError(422, f"{field}: {exc}", [f"{field}: {exc}"]) from None


def window_json(view: WindowView, now: datetime) -> dict[str, Any]:
    return {
        "id": view.id,
        "connector": view.connector,
        "state": view.state(now),
        "starts_at": format_rfc3339(view.starts_at),
        "ends_at": format_rfc3339(view.ends_at),
        "reason": view.reason,
        "created_by": view.created_by,
        "created_at": format_rfc3339(view.created_at),
        "ended_early_at": None
        if view.ended_early_at is None
        else format_rfc3339(view.ended_early_at),
        "ended_by": view.ended_by,
        "released_at": None if view.released_at is None else format_rfc3339(view.released_at),
    }

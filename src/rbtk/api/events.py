"""Platform events in, and what became of them.

POST /api/v1/events        one event, or {"events": [...]} with a result per event
                           (an events token, or an admin token); a result's `notice`
                           says when a type is unknown: taken, but no rule pages it
GET  /api/v1/events?project=&type=&paged=&before=&limit=
                           200 {"events": [Event], "next_before"}: newest first;
                           `next_before` (an event id) fetches the next page
GET  /api/v1/events/{id}   200 {"event": Event, "incidents": [Incident], "deliveries":
                           [Delivery]}: what it is part of that is still open, and every
                           row it queued; 404 for an id never received

Event  {"id", "type", "project", "occurred_at", "received_at", "paged", "reasons",
        "decisions", "data"}:
       `paged` whether it triggered a page (sent or held); `reasons` why it did not page
       where it did not (null `paged` for events received before rbtk kept them);
       `decisions` each connector's decision on each page it started, now or when a
       threshold passed later: {"dedup_key", "rule", "connector", "outcome":
       sent|held|left out, "severity", "stage", "reason"}
"""

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rbtk import metrics
from rbtk.admin import event_log
from rbtk.admin.event_log import MAX_LIMIT as MAX_EVENTS
from rbtk.api.deliveries import DeliveryOut
from rbtk.api.deps import Admin, Ctx, EventsWriter
from rbtk.api.errors import ApiError
from rbtk.api.incidents import IncidentOut, incident_json
from rbtk.api.payload import read_json
from rbtk.api.schema import Error, errors, event_schema, json_body
from rbtk.channels import registry
from rbtk.intake.ingest import MAX_BATCH, Acceptance, BatchResult, ItemResult
from rbtk.intake.writer import Writer
from rbtk.policy.events import PAYLOADS
from rbtk.routing.ordered_rules import unknown_type_notice

router = APIRouter(prefix="/api/v1", tags=["events"])


class ItemOut(BaseModel):
    index: int
    id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    errors: list[str] | None = Field(default=None, description="why it was rejected, by field")
    notice: str | None = Field(
        default=None,
        description="taken, but worth a look: a type rbtk does not know, which no rule pages, "
        "with the closest known type",
    )


class BatchOut(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    results: list[ItemOut]


# Each event in a batch is validated on its own and answered in `results`: any item is taken.
BATCH = {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": {}}


@router.post(
    "/events",
    dependencies=[EventsWriter],
    responses={
        200: {"model": BatchOut, "description": "A batch: a result per event, in order"},
        202: {"model": ItemOut, "description": "One event, stored (or a repeat of one)"},
        **errors(400, 401, 403, 415, 422, 503),
        413: {
            "model": Error,
            "description": f"More than {MAX_BATCH} events, or a body over "
            "RBTK_MAX_REQUEST_BYTES: nothing was stored",
        },
    },
    openapi_extra=json_body(
        {
            "oneOf": [
                {
                    **event_schema(required=["id", "type", "project_slug", "occurred_at", "data"]),
                    "not": {"required": ["events"]},
                },
                {
                    "type": "object",
                    "required": ["events"],
                    "properties": {"events": BATCH},
                },
                BATCH,
            ]
        }
    ),
)
async def post_events(request: Request, context: Ctx) -> JSONResponse:
    payload = await read_json(request, limit=context.settings.max_request_bytes)
    single = isinstance(payload, dict) and "events" not in payload
    if single:
        raw_events: list[Any] = [payload]
    elif isinstance(payload, dict) and isinstance(payload["events"], list):
        raw_events = payload["events"]
    elif isinstance(payload, list):
        raw_events = payload
    else:
        raise ApiError(422, 'send one event object, or {"events": [...]} with a list')
    if not raw_events:
        raise ApiError(422, "events: the list is empty")
    if len(raw_events) > MAX_BATCH:
        raise ApiError(413, f"events: at most {MAX_BATCH} per request, got {len(raw_events)}")
    writer: Writer = request.app.state.writer
    result = await writer.ingest(raw_events)
    metrics.count_events(result)
    if single:
        item = result.items[0]
        if item.status is Acceptance.REJECTED:
            raise ApiError(422, "event is invalid: " + "; ".join(item.errors), item.errors)
        return _Answer(_item(item, raw_events[0]), status_code=202)
    return _Answer(_batch(result, raw_events), status_code=200)


class _Answer(JSONResponse):
    """JSON in ASCII: each result echoes the id it was sent, and a rejected id may hold a lone
    surrogate, which JSON escapes but UTF-8 cannot encode."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()


def _item(item: ItemResult, raw: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"index": item.index, "id": item.id, "status": item.status.value}
    if item.errors:
        answer["errors"] = item.errors
    elif isinstance(raw, dict) and isinstance(raw.get("type"), str):
        notice = unknown_type_notice(raw["type"], PAYLOADS)
        if notice:
            answer["notice"] = notice
    return answer


def _batch(result: BatchResult, raw_events: list[Any]) -> dict[str, Any]:
    return {
        "accepted": result.count(Acceptance.ACCEPTED),
        "duplicate": result.count(Acceptance.DUPLICATE),
        "rejected": result.count(Acceptance.REJECTED),
        "results": [_item(item, raw_events[item.index]) for item in result.items],
    }


class DecisionOut(BaseModel):
    dedup_key: str
    rule: str | None
    connector: str | None = Field(description="null: no connector was routed at all")
    outcome: Literal["sent", "held", "left out"]
    severity: str | None = Field(description="what it was sent or held at")
    stage: str = Field(description="the pipeline stage that decided")
    reason: str


class EventOut(BaseModel):
    id: str
    type: str
    project: str
    occurred_at: str
    received_at: str
    paged: bool | None = Field(description="whether it triggered a page, sent or held")
    reasons: list[str] = Field(description="why it did not page where it did not")
    decisions: list[DecisionOut] = Field(
        default=[], description="each connector's decision on each page it started"
    )
    data: dict[str, Any]


class EventsOut(BaseModel):
    events: list[EventOut]
    next_before: str | None = Field(description="pass as before for the next page")


class EventDetailOut(BaseModel):
    event: EventOut
    incidents: list[IncidentOut] = Field(description="what it opened or touched, still open")
    deliveries: list[DeliveryOut] = Field(description="every row it queued")


@router.get(
    "/events",
    dependencies=[Admin],
    response_model=EventsOut,
    responses=errors(401, 403, 404, 422),
)
def list_events(
    context: Ctx,
    project: Annotated[str | None, Query(max_length=128)] = None,
    event_type: Annotated[str | None, Query(alias="type", max_length=255)] = None,
    paged: bool | None = None,
    before: Annotated[str | None, Query(max_length=255, description="an event id")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 50,
) -> dict[str, Any]:
    with context.reads.connect() as connection:
        found = event_log.list_events(
            connection,
            project=project,
            event_type=event_type,
            paged=paged,
            before=before,
            limit=limit + 1,
        )
    page = found[:limit]
    return {
        "events": [event_log.event_json(view) for view in page],
        "next_before": page[-1].id if len(found) > limit else None,
    }


@router.get(
    "/events/{event_id:path}",
    dependencies=[Admin],
    response_model=EventDetailOut,
    responses=errors(401, 403, 404),
)
def get_event(event_id: str, context: Ctx) -> dict[str, Any]:
    with context.reads.connect() as connection:
        detail = event_log.get(
            connection, event_id, rates=registry.rates(context.settings), now=datetime.now(UTC)
        )
    return {
        "event": event_log.event_json(detail.event),
        "incidents": [incident_json(view) for view in detail.incidents],
        "deliveries": detail.deliveries,
    }

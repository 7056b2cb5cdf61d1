"""POST /api/v1/events: one event, or {"events": [...]} with a result per event."""

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rbtk.api.deps import Ctx, EventsWriter
from rbtk.api.errors import ApiError
from rbtk.api.payload import read_json
from rbtk.api.schema import errors, event_schema, json_body
from rbtk.intake.ingest import MAX_BATCH, Acceptance, BatchResult, ItemResult
from rbtk.intake.writer import Writer
from rbtk.runtime import metrics

router = APIRouter(prefix="/api/v1", tags=["events"])


class ItemOut(BaseModel):
    index: int
    id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    errors: list[str] | None = Field(default=None, description="why it was rejected, by field")


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
        **errors(400, 401, 403, 413, 415, 422, 503),
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
        return _Answer(_item(item), status_code=202)
    return _Answer(_batch(result), status_code=200)


class _Answer(JSONResponse):
    """JSON in ASCII: each result echoes the id it was sent, and a rejected id may hold a lone
    surrogate, which JSON escapes but UTF-8 cannot encode."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()


def _item(item: ItemResult) -> dict[str, Any]:
    answer: dict[str, Any] = {"index": item.index, "id": item.id, "status": item.status.value}
    if item.errors:
        answer["errors"] = item.errors
    return answer


def _batch(result: BatchResult) -> dict[str, Any]:
    return {
        "accepted": result.count(Acceptance.ACCEPTED),
        "duplicate": result.count(Acceptance.DUPLICATE),
        "rejected": result.count(Acceptance.REJECTED),
        "results": [_item(item) for item in result.items],
    }

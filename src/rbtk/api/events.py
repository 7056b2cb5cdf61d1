"""POST /api/v1/events: one event, or {"events": [...]} with a result per event."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from rbtk.api.deps import Ctx, EventsWriter
from rbtk.api.errors import ApiError
from rbtk.api.payload import read_json
from rbtk.intake.ingest import MAX_BATCH, BatchResult, ItemResult, Verdict, ingest
from rbtk.runtime import metrics

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.post("/events", dependencies=[EventsWriter])
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
    result = await run_in_threadpool(ingest, context, raw_events, datetime.now(UTC))
    metrics.count_events(result)
    if single:
        item = result.items[0]
        if item.status is Verdict.REJECTED:
            raise ApiError(422, "event is invalid: " + "; ".join(item.errors), item.errors)
        return JSONResponse(_item(item), status_code=202)
    return JSONResponse(_batch(result), status_code=200)


def _item(item: ItemResult) -> dict[str, Any]:
    answer: dict[str, Any] = {"index": item.index, "id": item.id, "status": item.status.value}
    if item.errors:
        answer["errors"] = item.errors
    return answer


def _batch(result: BatchResult) -> dict[str, Any]:
    return {
        "accepted": result.count(Verdict.ACCEPTED),
        "duplicate": result.count(Verdict.DUPLICATE),
        "rejected": result.count(Verdict.REJECTED),
        "results": [_item(item) for item in result.items],
    }

"""GET /api/v1/pagerduty/deliveries: the delivery log, newest first, paginated by id."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from rbtk.api.deps import Admin, Ctx
from rbtk.api.errors import ApiError
from rbtk.outbox import Status
from rbtk.policy.state import Action
from rbtk.store.tables import outbox
from rbtk.timefmt import format_rfc3339, parse_rfc3339

router = APIRouter(prefix="/api/v1/pagerduty", tags=["deliveries"])

MAX_LIMIT = 500

# Never the routing key, its fingerprint or the body: the log is for people to read.
_COLUMNS = (
    outbox.c.id,
    outbox.c.created_at,
    outbox.c.last_attempt_at,
    outbox.c.next_attempt_at,
    outbox.c.connector_name,
    outbox.c.event_id,
    outbox.c.event_type,
    outbox.c.dedup_key,
    outbox.c.action,
    outbox.c.severity,
    outbox.c.status,
    outbox.c.attempts,
    outbox.c.http_status,
    outbox.c.message,
    outbox.c.errors,
    outbox.c.latency_ms,
)


@router.get("/deliveries", dependencies=[Admin])
def list_deliveries(
    context: Ctx,
    connector: str | None = None,
    status: Status | None = None,
    dedup_key: str | None = None,
    action: Action | None = None,
    since: Annotated[str | None, Query(description="RFC 3339; rows created at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    before_id: Annotated[int | None, Query(ge=1, description="the previous next_before_id")] = None,
) -> dict[str, Any]:
    query = select(*_COLUMNS).order_by(outbox.c.id.desc()).limit(limit + 1)
    if connector is not None:
        query = query.where(outbox.c.connector_name == connector)
    if status is not None:
        query = query.where(outbox.c.status == status.value)
    if dedup_key is not None:
        query = query.where(outbox.c.dedup_key == dedup_key)
    if action is not None:
        query = query.where(outbox.c.action == action.value)
    if since is not None:
        try:
            moment = parse_rfc3339(since)
        except ValueError as exc:
            raise ApiError(422, f"since: {exc}", [f"since: {exc}"]) from None
        query = query.where(outbox.c.created_at >= moment)
    if before_id is not None:
        query = query.where(outbox.c.id < before_id)
    with context.engine.connect() as connection:
        rows = connection.execute(query).all()
    page = rows[:limit]
    return {
        "deliveries": [_delivery(row._mapping) for row in page],
        "next_before_id": page[-1].id if len(rows) > limit else None,
    }


def _delivery(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "created_at": format_rfc3339(row["created_at"]),
        "last_attempt_at": _time(row["last_attempt_at"]),
        "next_attempt_at": format_rfc3339(row["next_attempt_at"]),
        "connector": row["connector_name"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "dedup_key": row["dedup_key"],
        "action": row["action"],
        "severity": row["severity"],
        "status": row["status"],
        "attempts": row["attempts"],
        "http_status": row["http_status"],
        "message": row["message"],
        "errors": row["errors"],
        "latency_ms": row["latency_ms"],
    }


def _time(value: Any) -> str | None:
    return None if value is None else format_rfc3339(value)

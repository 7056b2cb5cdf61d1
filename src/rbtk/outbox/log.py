"""The delivery log: outbox rows as people read them, newest first, paginated by id.

Never the destination (routing key or webhook URL), its fingerprint or the body. A row names
its PagerDuty connector (`connector`) or its chat channel (`channel_name`), never both.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from rbtk.channels import pagerduty
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.tables import outbox

MAX_LIMIT = 500

_COLUMNS = (
    outbox.c.id,
    outbox.c.channel,
    outbox.c.created_at,
    outbox.c.last_attempt_at,
    outbox.c.next_attempt_at,
    outbox.c.connector_name,
    outbox.c.channel_name,
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


@dataclass(frozen=True)
class Page:
    deliveries: list[dict[str, Any]]
    next_before_id: int | None


def query(
    connection: Connection,
    *,
    channels: tuple[str, ...] = (pagerduty.kind,),
    connector: str | None = None,
    channel_name: str | None = None,
    status: str | None = None,
    dedup_key: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> Page:
    statement = (
        select(*_COLUMNS)
        .where(outbox.c.channel.in_(channels))
        .order_by(outbox.c.id.desc())
        .limit(limit + 1)
    )
    filters = {
        outbox.c.connector_name: connector,
        outbox.c.channel_name: channel_name,
        outbox.c.status: status,
        outbox.c.dedup_key: dedup_key,
        outbox.c.action: action,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    if since is not None:
        statement = statement.where(outbox.c.created_at >= since)
    if before_id is not None:
        statement = statement.where(outbox.c.id < before_id)
    rows = connection.execute(statement).all()
    page = rows[:limit]
    return Page(
        [_delivery(row._mapping) for row in page],
        page[-1].id if len(rows) > limit else None,
    )


def _delivery(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "channel": row["channel"],
        "created_at": format_rfc3339(row["created_at"]),
        "last_attempt_at": _time(row["last_attempt_at"]),
        "next_attempt_at": format_rfc3339(row["next_attempt_at"]),
        "connector": row["connector_name"],
        "channel_name": row["channel_name"],
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

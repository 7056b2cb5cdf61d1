"""The delivery log: outbox rows as people read them, newest first, paginated by id.

Never the destination (routing key or webhook URL), its fingerprint or the body. A row names
its PagerDuty connector (`connector`) or its chat channel (`channel_name`), never both. A row
still to be sent says what it waits for (`waiting`): the rate budget of its destination, a
retry's backoff, or the time it was scheduled for, and when it can go.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from rbtk.channels import pagerduty
from rbtk.outbox.queue import BUDGET_WINDOW, PENDING
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
    event_id: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    before_id: int | None = None,
    rates: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> Page:
    """`rates` (rbtk.channels.registry.rates) lets a row waiting for its destination's
    budget say so; without it, only backoffs and schedules are told."""
    statement = (
        select(*_COLUMNS, outbox.c.key_fingerprint)
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
        outbox.c.event_id: event_id,
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
    waits = _waiting(connection, page, rates or {}, now or datetime.now(UTC))
    return Page(
        [{**_delivery(row._mapping), "waiting": waits.get(row.id)} for row in page],
        page[-1].id if len(rows) > limit else None,
    )


def _waiting(
    connection: Connection, rows: Sequence[Any], rates: Mapping[str, int], now: datetime
) -> dict[int, dict[str, str]]:
    """What each row still to be sent waits for, and until when."""
    waits: dict[int, dict[str, str]] = {}
    due: list[Any] = []
    for row in rows:
        if row.status not in PENDING:
            continue
        if row.next_attempt_at > now:
            reason = "retry backoff" if row.attempts else "scheduled"
            waits[row.id] = {"reason": reason, "until": format_rfc3339(row.next_attempt_at)}
        elif rates.get(row.channel):
            due.append(row)
    frees = _budget_frees(connection, due, rates, now)
    for row in due:
        at = frees.get((row.channel, row.key_fingerprint))
        if at is not None:
            waits[row.id] = {"reason": "rate budget", "until": format_rfc3339(at)}
    return waits


def _budget_frees(
    connection: Connection, rows: list[Any], rates: Mapping[str, int], now: datetime
) -> dict[tuple[str, str], datetime]:
    """For each destination of `rows` whose budget is spent, when it has room again: when
    the attempt that fills it leaves the sliding minute."""
    destinations = {(row.channel, row.key_fingerprint) for row in rows}
    if not destinations:
        return {}
    attempts: dict[tuple[str, str], list[datetime]] = {}
    found = connection.execute(
        select(outbox.c.channel, outbox.c.key_fingerprint, outbox.c.last_attempt_at)
        .where(
            outbox.c.channel.in_(sorted({channel for channel, _ in destinations})),
            outbox.c.key_fingerprint.in_(sorted({fp for _, fp in destinations})),
            outbox.c.last_attempt_at > now - BUDGET_WINDOW,
        )
        .order_by(outbox.c.last_attempt_at)
    )
    for channel, fingerprint, at in found:
        attempts.setdefault((channel, fingerprint), []).append(at)
    frees = {}
    for destination, times in attempts.items():
        rate = rates[destination[0]]
        if destination in destinations and len(times) >= rate:
            frees[destination] = times[len(times) - rate] + BUDGET_WINDOW
    return frees


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

"""The delivery log: outbox rows as people read them, newest first, paged by id both ways.

Never the destination (routing key or webhook URL), its fingerprint or the body: only the
PagerDuty summary a trigger carried. A row names its PagerDuty connector (`connector`) or its
chat channel (`channel_name`), never both. A row still to be sent says what it waits for
(`waiting`): the rate budget of its destination, a retry's backoff, or the time it was
scheduled for, and when it can go; a row held back says so while it is: by a suppression
window (until its end), by a storm (until the storm ends), or in a chat digest (until the
digest is sent).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, exists, select

from rbtk.channels import pagerduty
from rbtk.outbox.queue.claim import BUDGET_WINDOW
from rbtk.outbox.status import PENDING, Status
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.db import count_up_to
from rbtk.store.tables import digests, outbox, storms, suppressions

MAX_LIMIT = 500
TOTAL_UP_TO = 10_000  # counted no further: "10,000+" says enough, and costs a bounded read

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
    outbox.c.project_slug,
    outbox.c.dedup_key,
    outbox.c.action,
    outbox.c.severity,
    outbox.c.status,
    outbox.c.attempts,
    outbox.c.http_status,
    outbox.c.message,
    outbox.c.errors,
    outbox.c.latency_ms,
    outbox.c.suppression_id,
    outbox.c.storm_id,
    outbox.c.digest_id,
    outbox.c.body["payload"]["summary"].as_string().label("summary"),
)


@dataclass(frozen=True)
class Page:
    deliveries: list[dict[str, Any]]
    next_before_id: int | None  # older rows exist: ask for those before this id
    next_after_id: int | None = None  # newer rows exist: ask for those after this id
    total: int | None = None  # rows matching the filters, counted up to TOTAL_UP_TO


def query(
    connection: Connection,
    *,
    channels: tuple[str, ...] = (pagerduty.kind,),
    connector: str | None = None,
    channel_name: str | None = None,
    status: str | None = None,
    dedup_key: str | None = None,
    dedup_prefix: str | None = None,
    action: str | None = None,
    project: str | None = None,
    event_id: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    before_id: int | None = None,
    after_id: int | None = None,
    count: bool = False,
    rates: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> Page:
    """Newest first, `limit` rows older than `before_id` or the `limit` just newer than
    `after_id`. `count` adds the total the filters match, up to TOTAL_UP_TO. `rates`
    (rbtk.channels.registry.rates) lets a row waiting for its destination's budget say so;
    without it, only backoffs, schedules and what holds rows back are told."""
    matching = select(outbox.c.id).where(outbox.c.channel.in_(channels))
    filters = {
        outbox.c.connector_name: connector,
        outbox.c.channel_name: channel_name,
        outbox.c.status: status,
        outbox.c.dedup_key: dedup_key,
        outbox.c.action: action,
        outbox.c.project_slug: project,
        outbox.c.event_id: event_id,
    }
    for column, value in filters.items():
        if value is not None:
            matching = matching.where(column == value)
    if dedup_prefix:
        matching = matching.where(outbox.c.dedup_key.startswith(dedup_prefix, autoescape=True))
    if since is not None:
        matching = matching.where(outbox.c.created_at >= since)
    statement = matching.with_only_columns(*_COLUMNS, outbox.c.key_fingerprint).limit(limit + 1)
    if before_id is not None:
        statement = statement.where(outbox.c.id < before_id)
    if after_id is not None:  # the rows just newer than it (and older than any before_id)
        statement = statement.where(outbox.c.id > after_id).order_by(outbox.c.id)
    else:
        statement = statement.order_by(outbox.c.id.desc())
    rows = connection.execute(statement).all()
    more = len(rows) > limit
    page = sorted(rows[:limit], key=lambda row: row.id, reverse=True)
    older = newer = None
    if page:  # past the side asked from, `more` tells; the other side is asked
        oldest, newest = page[-1].id, page[0].id
        if after_id is None:
            older = oldest if more else None
            if before_id is not None and _any(connection, matching, outbox.c.id > newest):
                newer = newest
        else:
            newer = newest if more else None
            older = oldest if _any(connection, matching, outbox.c.id < oldest) else None
    total = count_up_to(connection, matching, TOTAL_UP_TO) if count else None
    waits = _waiting(connection, page, rates or {}, now or datetime.now(UTC))
    return Page(
        [{**_delivery(row._mapping), "waiting": waits.get(row.id)} for row in page],
        older,
        newer,
        total,
    )


def one(
    connection: Connection,
    row_id: int,
    *,
    channels: tuple[str, ...],
    rates: Mapping[str, int],
    now: datetime,
) -> dict[str, Any] | None:
    """One row of the log as `query` shows it (what it waits for included), or None: what a
    test send's page and CLI follow until the row is sent or failed."""
    row = connection.execute(
        select(*_COLUMNS, outbox.c.key_fingerprint).where(
            outbox.c.id == row_id, outbox.c.channel.in_(channels)
        )
    ).first()
    if row is None:
        return None
    return {
        **_delivery(row._mapping),
        "waiting": _waiting(connection, [row], rates, now).get(row.id),
    }


def _any(connection: Connection, matching: Select[Any], beyond: Any) -> bool:
    return bool(connection.execute(select(exists(matching.where(beyond)))).scalar())


def _waiting(
    connection: Connection, rows: Sequence[Any], rates: Mapping[str, int], now: datetime
) -> dict[int, dict[str, str | None]]:
    """What each row still to be sent, or held back, waits for, and until when."""
    waits: dict[int, dict[str, str | None]] = dict(_held(connection, rows, now))
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


def _held(
    connection: Connection, rows: Sequence[Any], now: datetime
) -> Iterable[tuple[int, dict[str, str | None]]]:
    """Held rows whose window, storm or digest still holds them, and until when."""
    held = [row for row in rows if row.status == Status.SUPPRESSED.value]
    windows = _still(
        connection,
        {row.suppression_id for row in held} - {None},
        select(suppressions.c.id, suppressions.c.ends_at).where(suppressions.c.ends_at > now),
    )
    open_storms = _still(
        connection,
        {row.storm_id for row in held} - {None},
        select(storms.c.id, storms.c.check_at).where(storms.c.ended_at.is_(None)),
    )
    waiting_digests = _still(
        connection,
        {row.digest_id for row in held} - {None},
        select(digests.c.id, digests.c.due_at).where(digests.c.sent_at.is_(None)),
    )
    for row in held:
        if row.suppression_id in windows:
            until = windows[row.suppression_id]
            yield row.id, {"reason": "suppression window", "until": format_rfc3339(until)}
        elif row.storm_id in open_storms:
            yield row.id, {"reason": "storm", "until": None}
        elif row.digest_id in waiting_digests:
            until = waiting_digests[row.digest_id]
            yield row.id, {"reason": "digest", "until": format_rfc3339(until)}


def _still(connection: Connection, ids: set[Any], query: Select[Any]) -> dict[int, datetime]:
    if not ids:
        return {}
    table_id = query.selected_columns[0]
    return {key: at for key, at in connection.execute(query.where(table_id.in_(sorted(ids))))}


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
        "project": row["project_slug"],
        "summary": row["summary"],
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

"""Recording: what each attempt came to, and what an endpoint's outage does to its rows.

A row answered is sent, failed, or retried after an exponential backoff with jitter (a
throttle's Retry-After honoured up to the retry cap) until its maximum age is spent. Rows are
taken by `rbtk.outbox.queue.claim`.
"""

import random
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, or_, select, update

from rbtk.channels.base import Endpoint, Result, Verdict, storable
from rbtk.outbox.queue.claim import Claimed, bound_for
from rbtk.outbox.status import FINAL, PENDING, Status
from rbtk.runtime.settings import Settings
from rbtk.runtime.timefmt import span
from rbtk.store.tables import outbox

_POLL_S = 0.05


def record(
    connection: Connection,
    outcomes: Sequence[tuple[Claimed, Result]],
    *,
    now: datetime,
    settings: Settings,
    rng: random.Random | None = None,
) -> None:
    """Write what each attempt came to, in one statement for the whole batch."""
    if not outcomes:
        return
    rng = rng or random.Random()
    values = []
    for claimed, result in outcomes:
        attempts = claimed.attempts + 1
        status, next_at, message = _next_step(claimed, result, attempts, now, settings, rng)
        values.append(
            {
                "row_id": claimed.id,
                "status": status.value,
                "attempts": attempts,
                "next_attempt_at": next_at,
                "http_status": result.http_status,
                "message": storable(message),
                "errors": [storable(e) for e in result.errors] if result.errors else result.errors,
                "latency_ms": result.latency_ms,
            }
        )
    connection.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("row_id"))
        .values(
            status=bindparam("status"),
            attempts=bindparam("attempts"),
            next_attempt_at=bindparam("next_attempt_at"),
            http_status=bindparam("http_status"),
            message=bindparam("message"),
            errors=bindparam("errors"),
            latency_ms=bindparam("latency_ms"),
            claimed_until=None,
        ),
        values,
    )


def _next_step(
    claimed: Claimed,
    result: Result,
    attempts: int,
    now: datetime,
    settings: Settings,
    rng: random.Random,
) -> tuple[Status, datetime, str]:
    if result.verdict is Verdict.SENT:
        return Status.SENT, now, result.message
    if result.verdict is Verdict.FAILED:
        return Status.FAILED, now, result.message
    give_up_at = claimed.created_at + timedelta(seconds=settings.max_retry_age_s)
    if now >= give_up_at:
        message = f"gave up after {attempts} attempts: {result.message}"
        return Status.FAILED, now, message
    delay = backoff(attempts, settings.retry_base_s, settings.retry_cap_s, rng)
    message = result.message
    if result.retry_after_s is not None:
        # A throttle (429) means the event was not taken: honour Retry-After, but never past
        # the retry cap, so one answer of "Retry-After: 100000" cannot park a page for a day.
        asked = result.retry_after_s
        delay = max(delay, min(asked, settings.retry_cap_s))
        if asked > settings.retry_cap_s:
            message = (
                f"{message} (asked to wait {span(asked)}; tried again after "
                f"{span(settings.retry_cap_s)}, RBTK_RETRY_CAP_S)"
            )
    # A wait that would outlast the maximum age (a capped backoff) is cut short to the age's
    # last moment: the row is always tried once more before it gives up.
    return Status.RETRYING, min(now + timedelta(seconds=delay), give_up_at), message


def backoff(attempts: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: half fixed, half random, so retries spread out."""
    ceiling = min(cap_s, base_s * 2.0 ** (attempts - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def wake(connection: Connection, endpoint: Endpoint, *, now: datetime) -> int:
    """Make every row backed off from `endpoint` due now: it answered again. Rows a 429 asked to
    wait keep their Retry-After; that was about their routing key, not the endpoint."""
    result = connection.execute(
        update(outbox)
        .where(
            bound_for(endpoint),
            outbox.c.status.in_(PENDING),
            outbox.c.attempts > 0,  # never tried: scheduled on purpose (a test's resolve)
            outbox.c.next_attempt_at > now,
            or_(outbox.c.http_status.is_(None), outbox.c.http_status != 429),
        )
        .values(next_attempt_at=now)
    )
    return result.rowcount


def give_up_expired(
    connection: Connection, endpoint: Endpoint, *, now: datetime, max_age_s: float
) -> int:
    """Fail the rows of a down endpoint whose maximum age is spent. Only rows tried at least
    once: while an endpoint is down its rows are not sent, and a row never tried is not
    given up (it is probed, and given up if that fails)."""
    rows = connection.execute(
        select(outbox.c.id, outbox.c.attempts, outbox.c.message).where(
            bound_for(endpoint),
            outbox.c.status.in_(PENDING),
            outbox.c.attempts > 0,
            outbox.c.created_at <= now - timedelta(seconds=max_age_s),
            (outbox.c.claimed_until.is_(None)) | (outbox.c.claimed_until < now),
        )
    ).all()
    for row in rows:
        connection.execute(
            update(outbox)
            .where(outbox.c.id == row.id)
            .values(
                status=Status.FAILED.value,
                next_attempt_at=now,
                claimed_until=None,
                message=f"gave up after {row.attempts} attempts: {row.message}",
            )
        )
    return len(rows)


def await_answer(engine: Engine, row_id: int, wait_s: float) -> Any:
    """Poll one row until its first attempt is recorded (or it is final), at most `wait_s`;
    answer the row as it then is. Blocking: for "send test" requests, run in a thread."""
    deadline = time.monotonic() + wait_s
    query = select(outbox).where(outbox.c.id == row_id)
    while True:
        with engine.connect() as connection:
            row = connection.execute(query).one()
        if row.status in FINAL or row.attempts > 0 or time.monotonic() >= deadline:
            return row
        time.sleep(_POLL_S)

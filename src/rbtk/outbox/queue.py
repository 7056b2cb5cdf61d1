"""The outbox: durable rows for every notification to send, claimed by delivery workers.

The outbox is the queue and the delivery log at once. Rows for one destination (a PagerDuty
connector, or a chat channel of one kind) and dedup key form a lane that is sent strictly in
order: only the oldest unfinished row of a lane can be claimed, so a resolve never overtakes
its trigger, even while the trigger is retried.
"""

import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import aliased

from rbtk.channels import registry
from rbtk.channels.base import Endpoint, Result, Verdict, storable
from rbtk.outbox.status import Status
from rbtk.runtime.settings import Settings
from rbtk.runtime.timefmt import span
from rbtk.store.db import is_postgres
from rbtk.store.tables import outbox

PENDING = (Status.QUEUED.value, Status.RETRYING.value)
FINAL = (Status.SENT.value, Status.FAILED.value, Status.SUPPRESSED.value)
_POLL_S = 0.05
BUDGET_WINDOW = timedelta(seconds=60)  # a budget counts attempts over PagerDuty's sliding minute


# claiming and recording


@dataclass(frozen=True)
class Claimed:
    id: int
    connector_name: str | None  # PagerDuty rows
    channel_name: str | None  # chat rows
    channel: str
    destination: bytes
    endpoint: str
    body: dict[str, Any]
    attempts: int
    created_at: datetime
    key_fingerprint: str = ""

    @property
    def to(self) -> str:
        """Where it goes, as logs name it: "pagerduty pd-production", "slack ops-slack"."""
        return f"{self.channel} {self.connector_name or self.channel_name}"

    @property
    def endpoint_at(self) -> Endpoint:
        return endpoint_of(self.channel, self.endpoint, self.key_fingerprint)


def endpoint_of(channel: str, endpoint: str, key_fingerprint: str) -> Endpoint:
    """Where a row goes: its stored endpoint, or, for a channel whose address is its secret
    (a Slack row stores only its kind; the webhook URL is encrypted in `destination`), its
    destination's fingerprint too, so one webhook's outage holds back only its own rows."""
    scoped = registry.channel(channel).address_is_secret
    return Endpoint(channel, endpoint, key_fingerprint if scoped else "")


def _at(endpoint: Endpoint) -> ColumnElement[bool]:
    clause = and_(outbox.c.channel == endpoint.channel, outbox.c.endpoint == endpoint.address)
    if endpoint.scope:
        clause = and_(clause, outbox.c.key_fingerprint == endpoint.scope)
    return clause


def claim(
    connection: Connection,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    rates: Mapping[str, int],
    exclude: Sequence[Endpoint] = (),
    probe: Endpoint | None = None,
) -> list[Claimed]:
    """Take up to `limit` sendable rows: due, not leased, first in their lane, within budget,
    and not bound for an endpoint in `exclude` (those are down: only probes go there).

    `rates` is each channel's budget per destination per minute (a PagerDuty integration
    key, a Slack webhook), by channel kind; a channel absent or at 0 has none. A destination
    that spent its budget holds back only its own rows.

    With `probe`, take rows bound for that endpoint only, due or not, the earliest due first:
    while an endpoint is down its rows wait for it, not for their own backoff.

    A lease rather than a status keeps a crash harmless: rows a dead worker held become
    claimable again when the lease runs out.
    """
    query = select(
        outbox.c.id,
        outbox.c.connector_name,
        outbox.c.channel_name,
        outbox.c.channel,
        outbox.c.destination,
        outbox.c.key_fingerprint,
        outbox.c.endpoint,
        outbox.c.body,
        outbox.c.attempts,
        outbox.c.created_at,
    ).where(
        outbox.c.status.in_(PENDING),
        (outbox.c.claimed_until.is_(None)) | (outbox.c.claimed_until < now),
        ~_BLOCKED,
    )
    if probe is None:
        query = query.where(outbox.c.next_attempt_at <= now).order_by(
            outbox.c.priority, outbox.c.id
        )
        if exclude:
            query = query.where(~or_(*(_at(e) for e in exclude)))
    else:
        query = query.where(_at(probe)).order_by(outbox.c.next_attempt_at, outbox.c.id)
    spent: dict[str, int] = {}
    full: set[str] = set()  # destinations whose budget is spent: their rows are not read
    rated = sorted(channel for channel, rate in rates.items() if rate)
    if rated:
        by_channel = _spent(connection, rated, now)
        spent = {fp: count for (_, fp), count in by_channel.items()}
        full = {
            fp
            for (channel, fp), count in by_channel.items()
            if rates.get(channel) and count >= rates[channel]
        }
    if is_postgres(connection):
        query = query.with_for_update(skip_locked=True, of=outbox)
    taken: list[Claimed] = []
    while len(taken) < limit:
        # A destination whose budget runs out during this claim is left out and the rest read
        # again: its remaining rows, ahead in order, must not fill the limit and crowd out
        # every other destination's (a PagerDuty backlog holding back Slack).
        batch = query.limit(limit - len(taken))
        if full:
            batch = batch.where(outbox.c.key_fingerprint.not_in(full))
        if taken:
            batch = batch.where(outbox.c.id.not_in([c.id for c in taken]))
        ran_out = False
        for row in connection.execute(batch):
            rate = rates.get(row.channel, 0)
            if rate:
                if spent.get(row.key_fingerprint, 0) >= rate:
                    full.add(row.key_fingerprint)
                    ran_out = True
                    continue
                spent[row.key_fingerprint] = spent.get(row.key_fingerprint, 0) + 1
            taken.append(
                Claimed(
                    row.id,
                    row.connector_name,
                    row.channel_name,
                    row.channel,
                    row.destination,
                    row.endpoint,
                    row.body,
                    row.attempts,
                    row.created_at,
                    row.key_fingerprint,
                )
            )
        if not ran_out:  # every row read was taken: nothing more is sendable now
            break
    if taken:
        connection.execute(
            update(outbox)
            .where(outbox.c.id.in_([c.id for c in taken]))
            .values(claimed_until=now + lease, last_attempt_at=now)
        )
    return taken


def _earlier_in_lane(name: str) -> ColumnElement[bool]:
    """Whether an older row of this row's lane is unfinished. One test per name column, each
    an index seek (ix_outbox_lane, ix_outbox_channel_lane): the name a row lacks is NULL, and
    NULL equals nothing, so each row is only ever held back by its own kind of lane."""
    earlier = aliased(outbox, name=f"earlier_by_{name}")
    return (
        select(earlier.c.id)
        .where(
            earlier.c[name] == outbox.c[name],
            earlier.c.dedup_key == outbox.c.dedup_key,
            earlier.c.channel == outbox.c.channel,
            earlier.c.id < outbox.c.id,
            earlier.c.status.in_(PENDING),
        )
        .exists()
    )


# Built once: an alias of the outbox copies its every column, which cost a claim more than
# the rest of its work did when it was built per call.
_BLOCKED = or_(_earlier_in_lane("connector_name"), _earlier_in_lane("channel_name"))


def _spent(
    connection: Connection, channels: Sequence[str], now: datetime
) -> dict[tuple[str, str], int]:
    """Attempts per (channel, destination) over the last 60 s (PagerDuty's sliding window),
    for these channels only: those with a budget. Under one, a destination has at most its
    budget of rows in the window, so this reads little however fast rbtk sends."""
    rows = connection.execute(
        select(outbox.c.channel, outbox.c.key_fingerprint, func.count())
        .where(
            outbox.c.channel.in_(channels),
            outbox.c.last_attempt_at > now - BUDGET_WINDOW,
        )
        .group_by(outbox.c.channel, outbox.c.key_fingerprint)
    )
    return {(channel, fingerprint): count for channel, fingerprint, count in rows}


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


def next_pending_at(connection: Connection, exclude: Sequence[Endpoint] = ()) -> datetime | None:
    """When the earliest pending row not bound for an `exclude`d endpoint becomes due (for
    the delivery loop's sleep)."""
    query = select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status.in_(PENDING))
    if exclude:
        query = query.where(~or_(*(_at(e) for e in exclude)))
    return connection.execute(query).scalar()


def renew(connection: Connection, row_ids: Sequence[int], *, until: datetime) -> None:
    """Extend the leases of rows still being sent. A row already recorded (its lease cleared)
    keeps no lease: a renewal that lost the race must not hold back its retry."""
    if row_ids:
        connection.execute(
            update(outbox)
            .where(outbox.c.id.in_(row_ids), outbox.c.claimed_until.is_not(None))
            .values(claimed_until=until)
        )


def wake(connection: Connection, endpoint: Endpoint, *, now: datetime) -> int:
    """Make every row backed off from `endpoint` due now: it answered again. Rows a 429 asked to
    wait keep their Retry-After; that was about their routing key, not the endpoint."""
    result = connection.execute(
        update(outbox)
        .where(
            _at(endpoint),
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
            _at(endpoint),
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


def release_leases(connection: Connection) -> int:
    """Free rows a previous process held when it died, so they are sent now, not when
    their leases run out. Only for a database one instance owns (SQLite)."""
    result = connection.execute(
        update(outbox)
        .where(outbox.c.status.in_(PENDING), outbox.c.claimed_until.is_not(None))
        .values(claimed_until=None)
    )
    return result.rowcount


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

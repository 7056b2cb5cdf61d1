"""Claiming: delivery workers take the rows that are due, each lane strictly in order.

The outbox is the queue and the delivery log at once. Rows for one destination (a PagerDuty
connector, or a chat channel of one kind) and dedup key form a lane that is sent strictly in
order: only the oldest unfinished row of a lane can be claimed, so a resolve never overtakes
its trigger, even while the trigger is retried. What each attempt came to is written by
`rbtk.outbox.queue.record`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, update
from sqlalchemy.orm import aliased

from rbtk.channels import registry
from rbtk.channels.base import Endpoint
from rbtk.outbox.status import PENDING
from rbtk.store.db import is_postgres
from rbtk.store.tables import outbox

BUDGET_WINDOW = timedelta(seconds=60)  # a budget counts attempts over PagerDuty's sliding minute


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


def bound_for(endpoint: Endpoint) -> ColumnElement[bool]:
    """Rows bound for `endpoint` (its scope too, when it has one)."""
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
            query = query.where(~or_(*(bound_for(e) for e in exclude)))
    else:
        query = query.where(bound_for(probe)).order_by(outbox.c.next_attempt_at, outbox.c.id)
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


def next_pending_at(connection: Connection, exclude: Sequence[Endpoint] = ()) -> datetime | None:
    """When the earliest pending row not bound for an `exclude`d endpoint becomes due (for
    the delivery loop's sleep)."""
    query = select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status.in_(PENDING))
    if exclude:
        query = query.where(~or_(*(bound_for(e) for e in exclude)))
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


def release_leases(connection: Connection) -> int:
    """Free rows a previous process held when it died, so they are sent now, not when
    their leases run out. Only for a database one instance owns (SQLite)."""
    result = connection.execute(
        update(outbox)
        .where(outbox.c.status.in_(PENDING), outbox.c.claimed_until.is_not(None))
        .values(claimed_until=None)
    )
    return result.rowcount

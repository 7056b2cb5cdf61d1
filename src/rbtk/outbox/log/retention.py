"""Retention: the delivery log, the events and the history of digests and storms, pruned
once older than `RBTK_RETENTION_DAYS`.

Pruned in batches of a few hundred rows, each its own transaction, so a prune of millions
never holds SQLite's write lock for long: the ingest writer and delivery take turns with it.
Kept whatever their age:

- a row still to be sent (queued, retrying);
- a held row something will still release or read: its window not yet released, its storm
  still open, its digest not yet sent;
- the latest row of a PagerDuty lane whose incident is still open: the resolve needs nothing
  from it, but the operator's log must still say how that incident was paged.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, Table, and_, delete, exists, or_, select
from sqlalchemy.orm import aliased

from rbtk.outbox.status import PENDING, Status
from rbtk.store.db import is_postgres
from rbtk.store.tables import (
    digests,
    events,
    incidents,
    outbox,
    reconcile_runs,
    storms,
    suppressions,
)

BATCH = 500
INTERVAL = timedelta(minutes=5)  # how often the scheduler prunes (rbtk.intake.scheduler)
MAX_BATCHES = 40  # per table per pass: the rest waits for the next pass, moments later


@dataclass(frozen=True)
class Pruned:
    outbox: int = 0
    events: int = 0
    digests: int = 0
    storms: int = 0
    reconcile_runs: int = 0
    more: bool = False  # a table still had old rows when its batches ran out

    @property
    def total(self) -> int:
        return self.outbox + self.events + self.digests + self.storms + self.reconcile_runs


def prune(engine: Engine, *, before: datetime, batch: int = BATCH) -> Pruned:
    """Delete what is older than `before` and not kept, a batch per transaction."""
    found = {
        "outbox": _batches(engine, outbox, _old_outbox(before), batch),
        "events": _batches(engine, events, _old_events(before), batch),
        "digests": _batches(engine, digests, _old_digests(before), batch),
        "storms": _batches(engine, storms, _old_storms(before), batch),
        "reconcile_runs": _batches(engine, reconcile_runs, _old_runs(before), batch),
    }
    return Pruned(
        **{name: deleted for name, (deleted, _) in found.items()},
        more=any(more for _, more in found.values()),
    )


def _batches(engine: Engine, table: Table, old: Select[Any], batch: int) -> tuple[int, bool]:
    """Delete batch after batch of `old` (ids of `table`); answer how many, and whether old
    rows remain for the next pass."""
    deleted = 0
    if is_postgres(engine):
        old = old.with_for_update(skip_locked=True)  # instances pruning at once share the work
    for _ in range(MAX_BATCHES):
        with engine.begin() as connection:
            ids = list(connection.execute(old.limit(batch)).scalars())
            if ids:
                connection.execute(delete(table).where(table.c.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < batch:
            return deleted, False
    return deleted, True


def _old_outbox(before: datetime) -> Select[Any]:
    # Read in the order of ix_outbox_created, stopping at `before`. "Not still to be sent"
    # rather than "in a final status": ix_outbox_status would serve the latter, and reading
    # every final row to sort them would cost each batch the whole delivery log.
    return (
        select(outbox.c.id)
        .where(outbox.c.created_at < before, outbox.c.status.not_in(PENDING), ~_kept())
        .order_by(outbox.c.created_at)
    )


def _kept() -> ColumnElement[bool]:
    """A final row kept past retention: held for something unfinished, or the latest row of
    an open PagerDuty lane."""
    held = and_(
        outbox.c.status == Status.SUPPRESSED.value,
        or_(
            exists().where(
                suppressions.c.id == outbox.c.suppression_id, suppressions.c.released_at.is_(None)
            ),
            exists().where(storms.c.id == outbox.c.storm_id, storms.c.ended_at.is_(None)),
            exists().where(digests.c.id == outbox.c.digest_id, digests.c.sent_at.is_(None)),
        ),
    )
    later = aliased(outbox)
    open_lane = and_(
        outbox.c.connector_id.is_not(None),
        exists().where(
            incidents.c.connector_id == outbox.c.connector_id,
            incidents.c.dedup_key == outbox.c.dedup_key,
        ),
        ~exists().where(
            later.c.connector_name == outbox.c.connector_name,
            later.c.dedup_key == outbox.c.dedup_key,
            later.c.id > outbox.c.id,
        ),
    )
    return or_(held, open_lane)


def _old_events(before: datetime) -> Select[Any]:
    # In the order of ix_events_received, stopping at `before`.
    return (
        select(events.c.id)
        .where(events.c.received_at < before)
        .order_by(events.c.received_at, events.c.id)
    )


def _old_digests(before: datetime) -> Select[Any]:
    return select(digests.c.id).where(digests.c.sent_at < before)


def _old_storms(before: datetime) -> Select[Any]:
    return select(storms.c.id).where(storms.c.ended_at < before)


def _old_runs(before: datetime) -> Select[Any]:
    return select(reconcile_runs.c.id).where(reconcile_runs.c.finished_at < before)

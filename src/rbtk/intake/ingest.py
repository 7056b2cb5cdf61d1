"""Accepting platform events: store, advance the policy, enqueue — in one transaction."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from rbtk.context import Context
from rbtk.intake import record
from rbtk.outbox.chat import messages
from rbtk.outbox.fanout import changes
from rbtk.outbox.fanout.notifications import enqueue
from rbtk.policy import engine
from rbtk.policy.events import Event, EventError, parse_event
from rbtk.policy.rules import PolicyConfig
from rbtk.store import policy_state
from rbtk.store.db import is_postgres
from rbtk.store.tables import events as events_table

MAX_BATCH = 1000


class Acceptance(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ItemResult:
    index: int
    id: str | None
    status: Acceptance
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BatchResult:
    items: list[ItemResult]

    def count(self, acceptance: Acceptance) -> int:
        return sum(1 for item in self.items if item.status is acceptance)


def ingest(context: Context, raw_events: Sequence[object], now: datetime) -> BatchResult:
    """Validate each event on its own, so a bad one never costs its valid siblings."""
    return ingest_all(context, [raw_events], now)[0]


def ingest_all(
    context: Context, requests: Sequence[Sequence[object]], now: datetime
) -> list[BatchResult]:
    """Store several requests' events in one transaction, in order, and answer each request
    with its own results: an event id sent twice is accepted once, the first time."""
    results: list[dict[int, ItemResult]] = [{} for _ in requests]
    fresh: list[tuple[int, int, Event]] = []  # (request, index in it, event)
    seen: set[str] = set()
    for number, raw_events in enumerate(requests):
        answers = results[number]
        for index, raw in enumerate(raw_events):
            try:
                event = parse_event(raw)
            except EventError as exc:
                raw_id = raw.get("id") if isinstance(raw, dict) else None
                raw_id = raw_id if isinstance(raw_id, str) else None
                answers[index] = ItemResult(index, raw_id, Acceptance.REJECTED, exc.errors)
                continue
            if event.id in seen:
                answers[index] = ItemResult(index, event.id, Acceptance.DUPLICATE)
                continue
            seen.add(event.id)
            fresh.append((number, index, event))
    if fresh:
        with context.engine.begin() as connection:
            stored_ids = _store_events(connection, [e for _, _, e in fresh], now)
            accepted = [e for _, _, e in fresh if e.id in stored_ids]
            queued, new_due = _advance(context, connection, accepted, now)
        for number, index, event in fresh:
            stored = event.id in stored_ids
            status = Acceptance.ACCEPTED if stored else Acceptance.DUPLICATE
            results[number][index] = ItemResult(index, event.id, status)
        if queued:
            context.wake_delivery()
        if new_due is not None:  # the scheduler may be asleep until a later time
            context.due_at(new_due, now)
    return [
        BatchResult([answers[i] for i in range(len(raw_events))])
        for answers, raw_events in zip(results, requests, strict=True)
    ]


def _store_events(connection: Connection, batch: list[Event], now: datetime) -> set[str]:
    """Insert events, skipping ids already stored; answer the ids this call policy_state."""
    dialect = postgresql if is_postgres(connection) else sqlite
    statement = (
        dialect.insert(events_table)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(events_table.c.id)
    )
    rows = [
        {
            "id": e.id,
            "type": e.type,
            "project_slug": e.project_slug,
            "occurred_at": e.occurred_at,
            "received_at": now,
            "data": e.data.model_dump(mode="json"),
        }
        for e in batch
    ]
    return set(connection.execute(statement, rows).scalars())


def _advance(
    context: Context, connection: Connection, batch: list[Event], now: datetime
) -> tuple[int, datetime | None]:
    """Answer how many rows were queued, and the earliest due time written, if any."""
    condition_keys: set[str] = set()
    release_keys: set[tuple[str, str]] = set()
    for event in batch:
        scope = engine.scope(event)
        condition_keys |= scope.condition_keys
        release_keys |= scope.release_keys
    policy_state.lock_keys(connection, condition_keys)
    before = policy_state.load(connection, condition_keys, release_keys)
    outcome = engine.apply_all(before, batch, now, PolicyConfig.of(context.settings))
    policy_state.save(connection, before, outcome.state)
    settings, config = context.settings, context.snapshots.read(connection)
    paged = enqueue(connection, outcome.notifications, settings=settings, now=now, config=config)
    quiet = [event for event in batch if event.id not in paged.paging_events]
    chatted = messages.enqueue(connection, quiet, settings=settings, now=now, config=config)
    changed = changes.enqueue(connection, batch, settings=settings, now=now, config=config)
    record.ingested(connection, batch, paged, outcome.reasons)
    queued = paged.queued + chatted.rows + changed
    dues = [
        condition.due_at
        for key, condition in outcome.state.conditions.items()
        if condition.due_at is not None and before.conditions.get(key) != condition
    ]
    if paged.storms_opened:
        dues.append(now)  # the scheduler queues their umbrellas
    if chatted.digest_due is not None:
        dues.append(chatted.digest_due)
    return queued, min(dues, default=None)

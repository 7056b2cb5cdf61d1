"""Coalescing: rows of one PagerDuty lane that would only undo each other are never sent.

While a trigger waits unsent (queued behind a rate budget or a backlog, never handed to a
sender), a later trigger of its lane replaces it, so PagerDuty hears the latest summary and
severity once; and its resolve cancels it, so PagerDuty never hears of a condition that came
and went while it waited. Both rows stay in the delivery log, saying why they were not sent.

A row a sender ever took (`last_attempt_at` is set when a row is claimed) may have reached
PagerDuty, even with no answer recorded (a crash, a timeout): it is never coalesced, and its
resolve is sent after it, as always.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update

from rbtk.outbox.queue import PENDING
from rbtk.outbox.rows import OutboxRow, Status
from rbtk.policy.state import Action
from rbtk.store.db import is_postgres
from rbtk.store.tables import outbox

REPLACED = "not sent: a later trigger of its lane replaced it before it was sent"
CLEARED = "not sent: its condition cleared before it was sent, so its resolve was not sent either"
NEVER_TRIGGERED = "not sent: its trigger was never sent (the condition cleared first)"
_CHUNK = 500

Lane = tuple[str, str]  # (connector name, dedup key)


@dataclass(frozen=True)
class _Tail:
    """The newest unsent row of a lane: stored (`row_id`) or about to be (`index`)."""

    action: str
    unsent_trigger: bool  # may still be coalesced away
    row_id: int | None = None
    index: int | None = None


def coalesce(connection: Connection, built: list[OutboxRow], *, now: datetime) -> list[OutboxRow]:
    """Answer `built` (rows about to be inserted, in order) with what coalesces marked as
    not sent, and mark stored rows the same way, in the caller's transaction."""
    rows = list(built)
    lanes = {_lane(row) for row in rows if _queued_page(row)}
    if not lanes:
        return rows
    tails = _stored_tails(connection, lanes)
    stored: dict[int, str] = {}  # stored row id -> why it is not sent

    def drop(tail: _Tail, reason: str) -> None:
        if tail.row_id is not None:
            stored[tail.row_id] = reason
        elif tail.index is not None:
            rows[tail.index] = rows[tail.index].held(reason)

    for index, row in enumerate(rows):
        if not _queued_page(row):
            continue  # a held row is not in the lane's queue
        lane, tail = _lane(row), tails.get(_lane(row))
        waiting = tail is not None and tail.unsent_trigger
        if row.action == Action.TRIGGER.value:
            if waiting:
                assert tail is not None
                drop(tail, REPLACED)
            tails[lane] = _Tail(row.action, unsent_trigger=True, index=index)
        elif waiting:
            assert tail is not None
            drop(tail, CLEARED)
            rows[index] = row.held(NEVER_TRIGGERED)
            # What waits before the cancelled trigger is unknown here: nothing coalesces with it.
            tails[lane] = _Tail(row.action, unsent_trigger=False)
        else:
            tails[lane] = _Tail(row.action, unsent_trigger=False, index=index)
    _mark(connection, stored, now)
    return rows


def _queued_page(row: OutboxRow) -> bool:
    return (
        row.connector_name is not None
        and row.status == Status.QUEUED.value
        and row.action in (Action.TRIGGER.value, Action.RESOLVE.value)
    )


def _lane(row: OutboxRow) -> Lane:
    assert row.connector_name is not None
    return (row.connector_name, row.dedup_key)


def _stored_tails(connection: Connection, lanes: Iterable[Lane]) -> dict[Lane, _Tail]:
    """The newest pending row of each lane. On PostgreSQL the lanes' pending rows are locked
    until commit: a sender of another instance skips them (its claim skips locked rows), and
    one that took a row first is waited for, after which the row reads as taken."""
    wanted = set(lanes)
    keys = sorted({key for _, key in wanted})
    newest: dict[Lane, _Tail] = {}
    for start in range(0, len(keys), _CHUNK):
        query = (
            select(
                outbox.c.id,
                outbox.c.connector_name,
                outbox.c.dedup_key,
                outbox.c.action,
                outbox.c.attempts,
                outbox.c.last_attempt_at,
            )
            .where(
                outbox.c.dedup_key.in_(keys[start : start + _CHUNK]),
                outbox.c.connector_name.is_not(None),
                outbox.c.status.in_(PENDING),
            )
            .order_by(outbox.c.id)
        )
        if is_postgres(connection):
            query = query.with_for_update()
        for row in connection.execute(query):
            lane = (row.connector_name, row.dedup_key)
            if lane in wanted:
                untouched = row.attempts == 0 and row.last_attempt_at is None
                unsent_trigger = row.action == Action.TRIGGER.value and untouched
                newest[lane] = _Tail(row.action, unsent_trigger, row_id=row.id)
    return newest


def _mark(connection: Connection, reasons: dict[int, str], now: datetime) -> None:
    if not reasons:
        return
    connection.execute(
        update(outbox)
        .where(
            outbox.c.id == bindparam("row_id"),
            outbox.c.attempts == 0,
            outbox.c.last_attempt_at.is_(None),
        )
        .values(
            status=Status.SUPPRESSED.value,
            message=bindparam("reason"),
            next_attempt_at=now,
            claimed_until=None,
        ),
        [{"row_id": row_id, "reason": reason} for row_id, reason in reasons.items()],
    )

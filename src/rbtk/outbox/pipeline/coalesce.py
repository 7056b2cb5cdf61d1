"""Coalescing: rows of one PagerDuty lane that would only undo each other are never sent.

While a trigger waits unsent (queued behind a rate budget or a backlog, never handed to a
sender), a later trigger of its lane replaces it, so PagerDuty hears the latest summary and
severity once; and its resolve cancels it, so PagerDuty never hears of a condition that came
and went while it waited. The resolve itself is still sent when an earlier trigger of the
lane was taken (a severity rise waited, then the condition cleared): PagerDuty holds that
incident open. Both rows stay in the delivery log, saying why they were not sent.

A row a sender ever took (`last_attempt_at` is set when a row is claimed) may have reached
PagerDuty, even with no answer recorded (a crash, a timeout): it is never coalesced, and its
resolve is sent after it, as always.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update

from rbtk.outbox.rows import OutboxRow
from rbtk.outbox.status import PENDING, Status
from rbtk.policy.state import Action
from rbtk.store.db import is_postgres
from rbtk.store.tables import outbox

REPLACED = "not sent: a later trigger of its lane replaced it before it was sent"
CLEARED = "not sent: its condition cleared before it was sent, so its resolve was not sent either"
NEVER_TRIGGERED = "not sent: its trigger was never sent (the condition cleared first)"
OUTRUN = (
    "not sent: its condition cleared before it was sent; the resolve closes the incident an "
    "earlier trigger opened"
)
_CHUNK = 500

Lane = tuple[str, str]  # (connector name, dedup key)


@dataclass(frozen=True)
class _Tail:
    """The newest unsent row of a lane: stored (`row_id`), about to be (`index`), or
    neither (unknown: only what the lane held before a cancelled trigger)."""

    unsent_trigger: bool  # may still be coalesced away
    row_id: int | None = None
    index: int | None = None


def coalesce(
    connection: Connection,
    built: list[OutboxRow],
    *,
    open_lanes: Collection[tuple[int, str]],
    now: datetime,
) -> list[OutboxRow]:
    """Answer `built` (rows about to be inserted, in order) with what coalesces marked as
    not sent, and mark stored rows the same way, in the caller's transaction.

    `open_lanes` are the (connector id, dedup key) whose incident was stored before these
    rows: only those can hold a stored trigger still unsent (a trigger opens its lane's
    incident, its resolve closes it), so a burst of new conditions costs no query here."""
    rows = list(built)
    lanes = {
        _lane(row)
        for row in rows
        if _queued_page(row) and (row.connector_id, row.dedup_key) in open_lanes
    }
    tails = _stored_tails(connection, lanes) if lanes else {}
    # A resolve that meets a trigger still waiting cancels it; it is itself sent only when
    # PagerDuty holds the incident from an earlier trigger (a rise waited, then it cleared).
    meeting = _resolves_meeting_a_waiting_trigger(rows, dict(tails))
    told = _open_at_pagerduty(connection, meeting) if meeting else set()
    stored: dict[int, str] = {}  # stored row id -> why it is not sent

    def drop(tail: _Tail, reason: str) -> None:
        if tail.row_id is not None:
            stored[tail.row_id] = reason
        elif tail.index is not None:
            rows[tail.index] = rows[tail.index].held(reason)

    for index, row in enumerate(rows):
        if not _queued_page(row):
            continue  # a held row is not in the lane's queue
        lane = _lane(row)
        tail = tails.get(lane)
        waiting = tail if tail is not None and tail.unsent_trigger else None
        if row.action == Action.TRIGGER.value:
            if waiting:
                drop(waiting, REPLACED)
            tails[lane] = _Tail(unsent_trigger=True, index=index)
        elif waiting and lane in told:
            drop(waiting, OUTRUN)
            tails[lane] = _Tail(unsent_trigger=False, index=index)
        elif waiting:
            drop(waiting, CLEARED)
            rows[index] = row.held(NEVER_TRIGGERED)
            # What waits before the cancelled trigger is unknown here: nothing coalesces with it.
            tails[lane] = _Tail(unsent_trigger=False)
        else:
            tails[lane] = _Tail(unsent_trigger=False, index=index)
    _mark(connection, stored, now)
    return rows


def _resolves_meeting_a_waiting_trigger(
    rows: list[OutboxRow], tails: dict[Lane, _Tail]
) -> set[Lane]:
    """The lanes where a resolve of `rows` would cancel a trigger still waiting (a dry run of
    the loop above, so what PagerDuty holds is read once for all of them)."""
    meeting = set()
    for row in rows:
        if not _queued_page(row):
            continue
        lane = _lane(row)
        tail = tails.get(lane)
        if row.action == Action.RESOLVE.value and tail is not None and tail.unsent_trigger:
            meeting.add(lane)
        tails[lane] = _Tail(unsent_trigger=row.action == Action.TRIGGER.value)
    return meeting


def _open_at_pagerduty(connection: Connection, lanes: Iterable[Lane]) -> set[Lane]:
    """The lanes whose newest row a sender ever took is a trigger: PagerDuty may hold their
    incident open, so their resolve must go."""
    wanted = set(lanes)
    names = sorted({name for name, _ in wanted})
    keys = sorted({key for _, key in wanted})
    newest: dict[Lane, str] = {}
    for start in range(0, len(keys), _CHUNK):
        query = (
            select(outbox.c.connector_name, outbox.c.dedup_key, outbox.c.action)
            .where(
                outbox.c.connector_name.in_(names),
                outbox.c.dedup_key.in_(keys[start : start + _CHUNK]),
                outbox.c.action.in_((Action.TRIGGER.value, Action.RESOLVE.value)),
                outbox.c.last_attempt_at.is_not(None),
            )
            .order_by(outbox.c.id)
        )
        for row in connection.execute(query):
            newest[(row.connector_name, row.dedup_key)] = row.action
    return {lane for lane in wanted if newest.get(lane) == Action.TRIGGER.value}


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
    names = sorted({name for name, _ in wanted})
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
                # Both names: a seek on ix_outbox_lane, however many rows are pending.
                outbox.c.connector_name.in_(names),
                outbox.c.dedup_key.in_(keys[start : start + _CHUNK]),
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
                newest[lane] = _Tail(unsent_trigger, row_id=row.id)
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

"""The scheduler: fires thresholds, suppression-window ends, storm checks and chat digests
when they fall due, without waiting for another event.

It sleeps until the earliest stored due time (an indexed lookup), so its cost grows with
the work that is due, not with the number of pools tracked.
"""

import asyncio
import logging
from datetime import UTC, datetime

from rbtk.outbox import chat, digests, umbrella
from rbtk.outbox.fanout import enqueue
from rbtk.outbox.release import release_held
from rbtk.policy import engine
from rbtk.policy.state import Tick
from rbtk.routing import suppression
from rbtk.runtime.context import Context
from rbtk.store import state as stored

log = logging.getLogger(__name__)

BATCH = 1000
MAX_SLEEP_S = 5.0  # also how soon a due time written by another instance is noticed


class Scheduler:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before the pass, so a wake-up that arrives during it is not lost.
            self.wake.clear()
            try:
                fired, pause = await asyncio.to_thread(self.fire_due)
            except Exception:
                log.exception("scheduler pass failed; retrying in 1 s")
                fired, pause = 0, 1.0
            if fired:
                self.context.wake_delivery()
            if pause > 0:
                waiters = [asyncio.ensure_future(e.wait()) for e in (self.wake, stop)]
                await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()

    def fire_due(self, now: datetime | None = None) -> tuple[int, float]:
        """Fire what is due; answer how many notifications it queued and how long to sleep.

        A pass with nothing due only reads: it never takes the write lock the ingest writer
        and delivery need (it is woken after every ingest that wrote a due time)."""
        now = now or datetime.now(UTC)
        due, queued = self._next_due(), 0
        if due is not None and due <= now:
            queued, more = self._fire(now)
            if more:
                return queued, 0.0
            due = self._next_due()
        if due is None:
            return queued, MAX_SLEEP_S
        # Never 0 here: a due row another instance holds must not make this loop spin.
        return queued, min(MAX_SLEEP_S, max(0.05, (due - now).total_seconds()))

    def _fire(self, now: datetime) -> tuple[int, bool]:
        """Answer how many notifications were queued, and whether more may be due."""
        settings = self.context.settings
        with self.context.engine.begin() as connection:
            before = stored.load_due(connection, now, BATCH)
            outcome = engine.apply(before, Tick(), now, settings.policy())
            stored.save(connection, before, outcome.state)
            config = self.context.snapshots.read(connection)
            queued = enqueue(
                connection, outcome.notifications, settings=settings, now=now, config=config
            ).queued
            queued += release_held(connection, settings=settings, config=config, now=now)
            queued += umbrella.tend(connection, settings=settings, config=config, now=now)
            queued += chat.send_digests(connection, settings=settings, config=config, now=now)
        return queued, len(before.conditions) >= BATCH

    def _next_due(self) -> datetime | None:
        """The earliest threshold, window end, storm check or digest still to handle."""
        with self.context.reads.connect() as connection:
            dues = [
                stored.next_due(connection),
                suppression.next_end(connection),
                umbrella.next_check(connection),
                digests.next_due(connection),
            ]
        return min((d for d in dues if d is not None), default=None)

"""The scheduler: fires thresholds, suppression-window ends, storm checks and chat digests
when they fall due, without waiting for another event; every few minutes, prunes what is
past retention (rbtk.outbox.log.retention); at every pass, tells the "rbtk health" chat channels
when pages became stuck or recovered (rbtk.outbox.log.stuck).

It sleeps until the earliest stored due time (an indexed lookup), so its cost grows with
the work that is due, not with the number of pools tracked.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from rbtk.context import Context
from rbtk.intake import record
from rbtk.outbox.chat import digests, messages
from rbtk.outbox.fanout.notifications import enqueue
from rbtk.outbox.fanout.release import release_held
from rbtk.outbox.log import retention, stuck
from rbtk.outbox.storms import umbrella
from rbtk.policy import engine
from rbtk.policy.rules import PolicyConfig
from rbtk.policy.state import Tick
from rbtk.routing import suppression
from rbtk.store import policy_state

log = logging.getLogger(__name__)

BATCH = 1000


class Scheduler:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.wake = asyncio.Event()
        self.prune_at: datetime | None = None  # None: at the first pass

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before the pass, so a wake-up that arrives during it is not lost.
            self.wake.clear()
            try:
                fired, pause = await asyncio.to_thread(self.fire_due)
            except Exception:
                log.exception("scheduler pass failed; retrying in 1 s")
                fired, pause = 0, 1.0
            try:
                context = self.context
                told = await asyncio.to_thread(
                    stuck.tell,
                    context.engine,
                    context.snapshots,
                    settings=context.settings,
                    now=datetime.now(UTC),
                )
                fired += told.queued
            except Exception:
                log.exception("checking for stuck pages failed; trying again at the next pass")
            if fired:
                self.context.wake_delivery()
            try:
                if await asyncio.to_thread(self.prune_due):
                    pause = 0.0
            except Exception:
                log.exception("pruning past retention failed; trying again in a few minutes")
                self.prune_at = datetime.now(UTC) + retention.INTERVAL
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
        # At most RBTK_SCHEDULER_PASS_S: also how soon a due time another instance wrote, or
        # a page that became stuck, is seen.
        longest = self.context.settings.scheduler_pass_s
        if due is None:
            return queued, longest
        # Never 0 here: a due row another instance holds must not make this loop spin.
        return queued, min(longest, max(0.05, (due - now).total_seconds()))

    def prune_due(self, now: datetime | None = None) -> bool:
        """Prune past retention when a pass is due; answer whether old rows remain, to be
        pruned at the next pass rather than minutes later."""
        now = now or datetime.now(UTC)
        days = self.context.settings.retention_days
        if not days or (self.prune_at is not None and now < self.prune_at):
            return False
        pruned = retention.prune(self.context.engine, before=now - timedelta(days=days))
        self.prune_at = now if pruned.more else now + retention.INTERVAL
        if pruned.total:
            log.info(
                "pruned past %g days: %d deliveries, %d events, %d digests, %d storms",
                days,
                pruned.outbox,
                pruned.events,
                pruned.digests,
                pruned.storms,
            )
        return pruned.more

    def _fire(self, now: datetime) -> tuple[int, bool]:
        """Answer how many notifications were queued, and whether more may be due."""
        settings = self.context.settings
        with self.context.engine.begin() as connection:
            before = policy_state.load_due(connection, now, BATCH)
            outcome = engine.apply(before, Tick(), now, PolicyConfig.of(settings))
            policy_state.save(connection, before, outcome.state)
            config = self.context.snapshots.read(connection)
            fanout = enqueue(
                connection, outcome.notifications, settings=settings, now=now, config=config
            )
            record.ticks(connection, outcome.notifications, fanout, now)
            queued = fanout.queued
            queued += release_held(connection, settings=settings, config=config, now=now)
            queued += umbrella.tend(connection, settings=settings, config=config, now=now)
            queued += messages.send_digests(connection, settings=settings, config=config, now=now)
        return queued, len(before.conditions) >= BATCH

    def _next_due(self) -> datetime | None:
        """The earliest threshold, window end, storm check or digest still to handle."""
        with self.context.reads.connect() as connection:
            dues = [
                policy_state.next_due(connection),
                suppression.next_end(connection),
                umbrella.next_check(connection),
                digests.next_due(connection),
            ]
        return min((d for d in dues if d is not None), default=None)

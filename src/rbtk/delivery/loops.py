"""The delivery worker, the scheduler and the periodic reconcile, on this process's event loop.

`create_app(context)` runs them beside the API (tests, embedding); `rbtk serve` runs them in a
process of their own (rbtk.delivery.process), so they do not share the API's GIL.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from rbtk import metrics
from rbtk.channels import registry
from rbtk.context import Context
from rbtk.delivery import http
from rbtk.delivery.worker import Deliverer
from rbtk.intake.scheduler import Scheduler
from rbtk.outbox.queue.claim import release_leases
from rbtk.reconcile.loop import Reconciler
from rbtk.store.db import is_postgres

log = logging.getLogger(__name__)


@asynccontextmanager
async def running(context: Context) -> AsyncIterator[None]:
    """Deliver and schedule while the block runs; on leaving it, let in-flight sends finish
    and be recorded (up to the slowest channel's timeout and 5 s more). Sets the context's
    wake-ups."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    settings = context.settings
    if not is_postgres(context.engine):
        # SQLite is single-instance: any lease left in it belongs to a process now dead.
        with context.engine.begin() as connection:
            release_leases(connection)
    _expect_configured(context)
    async with http.new_session(
        concurrency=settings.delivery_concurrency,
        timeout_s=registry.slowest(settings)[1],  # each channel's post sets its own
        allow_private=settings.allow_private_webhooks,
        trusted=(settings.pagerduty_url, settings.pagerduty_eu_url),
    ) as session:
        deliverer = Deliverer(context, session)
        scheduler = Scheduler(context)

        def wake_delivery() -> None:
            loop.call_soon_threadsafe(deliverer.wake.set)

        def wake_scheduler() -> None:
            loop.call_soon_threadsafe(scheduler.wake.set)

        context.wake_delivery, context.wake_scheduler = wake_delivery, wake_scheduler
        tasks = [
            asyncio.create_task(deliverer.run(stop), name="delivery"),
            asyncio.create_task(scheduler.run(stop), name="scheduler"),
            asyncio.create_task(Reconciler(context).run(stop), name="reconcile"),
            asyncio.create_task(_expecting_configured(context, stop), name="metrics-zeros"),
        ]
        try:
            yield
        finally:
            stop.set()
            # Let in-flight sends finish and be recorded; a row cut off here is re-sent later.
            await asyncio.wait(tasks, timeout=registry.drain_s(settings))
            for task in tasks:
                task.cancel()


EXPECT_EVERY_S = 5.0


def _expect_configured(context: Context) -> None:
    """Every delivery counter of each connector and chat channel at 0 before its first send."""
    try:
        with context.reads.connect() as connection:
            metrics.expect_configured(context.snapshots.read(connection))
    except Exception:
        # Only the zeros wait for the next look; delivery goes on.
        log.exception("could not read the configuration to set the delivery counters to 0")


async def _expecting_configured(context: Context, stop: asyncio.Event) -> None:
    """Again every few seconds, for connectors and channels added since: a single-row read
    while the configuration has not changed (rbtk.routing.snapshot)."""
    while True:
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), EXPECT_EVERY_S)
        if stop.is_set():
            return
        await asyncio.to_thread(_expect_configured, context)

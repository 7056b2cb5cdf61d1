"""The periodic reconcile: every connector with a REST API key and a service id, once after
start and every `RBTK_RECONCILE_EVERY_S` (10 minutes); and, every half minute, the reminder
of connectors overdue for an end-to-end test (rbtk.reconcile.reminders) and the webhook
deliveries stored but not applied (the API applies them as it answers; a restart in between
leaves them to this), and those past retention.

Several instances share the work: a connector's pass runs on the instance whose conditional
update of `reconcile_due` moved its due time. A pass that cannot read PagerDuty (a wrong key,
PagerDuty down) records its error and waits for the next period like any other: never a
tight loop against a REST API that refuses us.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, and_, insert, select, update

from rbtk.context import Context
from rbtk.reconcile import reminders, webhook_apply
from rbtk.reconcile.passes import reconcile
from rbtk.store.tables import connectors, reconcile_due

log = logging.getLogger(__name__)

LOOK_S = 30.0  # how soon a connector given a REST API key is first reconciled


class Reconciler:
    def __init__(self, context: Context) -> None:
        self.context = context

    async def run(self, stop: asyncio.Event) -> None:
        every = self.context.settings.reconcile_every_s
        first = True
        while not stop.is_set():
            try:
                await asyncio.to_thread(reminders.tell, self.context, now=datetime.now(UTC))
            except Exception:
                log.exception("telling of connectors overdue for a test failed")
            try:
                await asyncio.to_thread(
                    webhook_apply.apply_pending, self.context, now=datetime.now(UTC)
                )
                await asyncio.to_thread(webhook_apply.prune, self.context, now=datetime.now(UTC))
            except Exception:
                log.exception("applying PagerDuty's webhook deliveries failed")
            names = []
            try:
                if every:
                    names = await asyncio.to_thread(self.claim, datetime.now(UTC), first=first)
            except Exception:
                log.exception("reading which connectors to reconcile failed")
            for name in names:
                if stop.is_set():
                    return
                try:
                    await asyncio.to_thread(reconcile, self.context, connector=name)
                except Exception:
                    log.exception("reconcile of %s failed; it runs again in %g s", name, every)
            first = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=min(LOOK_S, every or LOOK_S))

    def claim(self, now: datetime, *, first: bool = False) -> list[str]:
        """The connectors this instance reconciles now: due ones (all of them on `first`),
        each moved `every` seconds on."""
        every = timedelta(seconds=self.context.settings.reconcile_every_s)
        with self.context.engine.begin() as connection:
            ready = _ready(connection)
            known = set(connection.execute(select(reconcile_due.c.connector_id)).scalars())
            fresh = [cid for cid in ready if cid not in known]
            if fresh:
                connection.execute(
                    insert(reconcile_due), [{"connector_id": cid, "due_at": now} for cid in fresh]
                )
            claimed = []
            for cid, name in sorted(ready.items(), key=lambda item: item[1]):
                where = [reconcile_due.c.connector_id == cid]
                if not first:
                    where.append(reconcile_due.c.due_at <= now)
                moved = connection.execute(
                    update(reconcile_due).where(and_(*where)).values(due_at=now + every)
                )
                if moved.rowcount == 1:
                    claimed.append(name)
        return claimed


def _ready(connection: Connection) -> dict[int, str]:
    found = connection.execute(
        select(connectors.c.id, connectors.c.name).where(
            connectors.c.rest_key.is_not(None), connectors.c.service_id.is_not(None)
        )
    )
    return {row.id: row.name for row in found}

"""Test the rotation end to end at least quarterly: a connector not verified end to end
(rbtk.reconcile.verify) for 90 days, or never in the 90 days since it was added, is overdue.

Every settings page says so (`banner`); each chat channel marked "rbtk health" is told once
per connector and time it falls due, whichever instance notices first: the one whose
conditional update of `verify_reminded_at` moves it queues the message.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import or_, select, update

from rbtk.admin.connectors import ConnectorView
from rbtk.channels.message import Message
from rbtk.context import Context
from rbtk.outbox.chat import messages
from rbtk.outbox.rows import insert_rows
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.tables import connectors as connectors_table

log = logging.getLogger(__name__)

VERIFY_EVERY = timedelta(days=90)
REMINDER = "rbtk.health.verify"
CONNECTOR_PAGE = "/settings/integrations/pagerduty/connectors/"


@dataclass(frozen=True)
class Overdue:
    connector: str
    verified_at: datetime | None
    due_at: datetime
    told_at: datetime | None = None  # when the health channels were last told of it

    @property
    def untold(self) -> bool:
        return self.told_at is None or self.told_at < self.due_at

    def said(self) -> str:
        if self.verified_at is None:
            return f"{self.connector} (never verified)"
        return f"{self.connector} (last verified {self.verified_at:%Y-%m-%d})"


def overdue_since(view: ConnectorView, now: datetime) -> datetime | None:
    """When the connector fell due for an end-to-end test; None while it is not."""
    return _due(view.verified_at, view.created_at, now)


def overdue(context: Context, *, now: datetime) -> list[Overdue]:
    """Read on every settings page: the connectors table alone, a row per connector."""
    with context.reads.connect() as connection:
        rows = connection.execute(
            select(
                connectors_table.c.name,
                connectors_table.c.verified_at,
                connectors_table.c.created_at,
                connectors_table.c.verify_reminded_at,
            ).order_by(connectors_table.c.name)
        ).all()
    found = []
    for row in rows:
        due = _due(row.verified_at, row.created_at, now)
        if due is not None:
            found.append(Overdue(row.name, row.verified_at, due, row.verify_reminded_at))
    return found


def _due(verified_at: datetime | None, created_at: datetime, now: datetime) -> datetime | None:
    due = (verified_at or created_at) + VERIFY_EVERY
    return due if due <= now else None


def banner(found: list[Overdue]) -> str:
    """What every settings page says while connectors are overdue."""
    names = ", ".join(o.said() for o in found)
    return (
        f"Test the rotation end to end: {names} not verified in {VERIFY_EVERY.days} days. Send "
        "a critical test event from the connector's page (with a REST API key set)."
    )


def tell(context: Context, *, now: datetime) -> int:
    """Tell the "rbtk health" channels of connectors newly overdue; answer how many messages
    were queued. Reads only, unless one fell due since it was last told."""
    found = [due for due in overdue(context, now=now) if due.untold]
    if not found:
        return 0
    queued = 0
    with context.engine.begin() as connection:
        channels = [c for c in context.snapshots.read(connection).chat_channels if c.health]
        for due in found:
            told = connection.execute(
                update(connectors_table)
                .where(
                    connectors_table.c.name == due.connector,
                    or_(
                        connectors_table.c.verify_reminded_at.is_(None),
                        connectors_table.c.verify_reminded_at < due.due_at,
                    ),
                )
                .values(verify_reminded_at=now)
            ).rowcount
            if not told:
                continue  # told already (or by another instance)
            message = _message(context, due, now)
            log.warning("%s", message.title)
            insert_rows(connection, [messages.chat_row(c, message, now) for c in channels])
            queued += len(channels)
    if queued:
        context.wake_delivery()
    return queued


def _message(context: Context, due: Overdue, now: datetime) -> Message:
    public = context.settings.public_url.rstrip("/")
    return Message(
        title=f"Test the rotation end to end: {due.said()} not verified in "
        f"{VERIFY_EVERY.days} days.",
        project="rbtk",
        event_type=REMINDER,
        event_id=f"rbtk-verify-{due.connector}-{now:%Y%m%d}",
        occurred_at=format_rfc3339(now),
        fields=[
            ("Connector", due.connector),
            ("Last verified", format_rfc3339(due.verified_at) if due.verified_at else "never"),
        ],
        link=f"{public}{CONNECTOR_PAGE}{quote(due.connector, safe='')}#test-event",
        link_label="Send a test event",
    )

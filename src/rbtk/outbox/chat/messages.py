"""Chat fan-out: each event that pages nobody becomes one row per chat channel its rule
names, in the caller's transaction. The rows share the pages' outbox: its retries, ordering,
per-channel budgets and delivery log. A burst to one channel goes out as digests
(`rbtk.outbox.chat.digests`)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from rbtk.channels.message import Message, describe
from rbtk.channels.registry import chat
from rbtk.outbox import rows
from rbtk.outbox.chat import digests
from rbtk.outbox.rows import OutboxRow, insert_rows
from rbtk.policy.events import Event
from rbtk.policy.keys import cap
from rbtk.routing.chat import Channel, channels_for
from rbtk.routing.snapshot import Snapshot
from rbtk.runtime.settings import Settings


@dataclass(frozen=True)
class Queued:
    rows: int  # rows that will be sent
    digest_due: datetime | None = None  # a digest opened: the scheduler sends it then


def enqueue(
    connection: Connection,
    events: Iterable[Event],
    *,
    settings: Settings,
    now: datetime,
    config: Snapshot,
) -> Queued:
    """Queue a message per matching channel for each of these (non-paging) events."""
    batch = list(events)
    rules, channels = config.chat_rules, config.chat_channels
    if not batch or not rules:
        return Queued(0)
    built = [
        chat_row(channel, describe(event, base_url=settings.base_url), now)
        for event in batch
        for channel in channels_for(event, rules, channels)
    ]
    built, due = digests.gather(connection, built, channels=channels, settings=settings, now=now)
    insert_rows(connection, built)
    return Queued(sum(r.digest_id is None for r in built), due)


def send_digests(
    connection: Connection, *, settings: Settings, config: Snapshot, now: datetime
) -> int:
    """Queue every digest that falls due as one message for its channel."""
    built = [
        chat_row(channel, message, now)
        for channel, message in digests.due(connection, settings=settings, config=config, now=now)
    ]
    insert_rows(connection, built)
    return len(built)


def chat_row(channel: Channel, message: Message, now: datetime) -> OutboxRow:
    """One message on its way to one chat channel, rendered as the channel's kind renders it."""
    return rows.chat(
        kind=channel.kind,
        channel_id=channel.id,
        channel_name=channel.name,
        secret=channel.secret,
        endpoint=channel.endpoint,
        event_id=message.event_id,
        event_type=message.event_type,
        project=message.project or None,
        dedup_key=cap(f"rbtk:notify:{message.event_id}"),
        body=chat(channel.kind).render(message, channel.config),
        now=now,
    )

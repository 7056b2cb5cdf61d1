"""Chat digests: a burst of messages to one Slack or email channel goes out as one a minute.

When more than `RBTK_CHAT_DIGEST_AFTER` (10) messages for one channel would be queued within
a minute, the channel's digest opens: the messages past that are held in it (the delivery
log says which digest carries them and when it goes), and a minute after it opened the
scheduler sends one message in their place: how many, by event type and project, and the
first of them. A burst that goes on opens the next digest, so the channel gets at most the
threshold plus one digest a minute. A channel a program reads (a webhook) never digests.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from rbtk.channels.message import MAX_FIELDS, Message, describe
from rbtk.channels.registry import chat
from rbtk.outbox.rows import OutboxRow
from rbtk.policy.events import EventError, parse_event
from rbtk.routing.chat import Channel
from rbtk.routing.snapshot import Snapshot
from rbtk.runtime.settings import Settings
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.db import count_up_to, is_postgres
from rbtk.store.tables import digests, events, outbox

WINDOW = timedelta(minutes=1)
FIRST_ITEMS = 4
BY_TYPE = 3


@dataclass(frozen=True)
class _Open:
    id: int
    due_at: datetime

    def reason(self, channel: str) -> str:
        return (
            f"in digest #{self.id} for {channel}: a burst of messages goes out as one, "
            f"at {self.due_at:%H:%M:%S} UTC"
        )


def gather(
    connection: Connection,
    built: list[OutboxRow],
    *,
    channels: Sequence[Channel],
    settings: Settings,
    now: datetime,
) -> tuple[list[OutboxRow], datetime | None]:
    """Hold the messages of `built` past each channel's burst threshold in its digest;
    answer the rows and when a digest opened here falls due (None: none opened)."""
    limit = settings.chat_digest_after
    digesting = {c.name: c for c in channels if limit and chat(c.kind).digests}
    names = sorted({r.channel_name for r in built if r.channel_name in digesting})
    if not names:
        return built, None
    collecting = {
        name: _Open(digest_id, due_at)
        for digest_id, name, due_at in connection.execute(
            select(digests.c.id, digests.c.channel_name, digests.c.due_at).where(
                digests.c.channel_name.in_(names), digests.c.sent_at.is_(None)
            )
        )
    }
    counts: dict[str, int] = {}
    opened: list[datetime] = []
    rows = []
    for row in built:
        name = row.channel_name
        if name is None or name not in digesting:
            rows.append(row)
            continue
        digest = collecting.get(name)
        if digest is None:
            count = counts.get(name)
            if count is None:
                count = _recent(connection, name, now - WINDOW, limit)
            counts[name] = count = count + 1
            if count <= limit:
                rows.append(row)
                continue
            digest = collecting[name] = _open(connection, digesting[name], now)
            opened.append(digest.due_at)
        rows.append(row.held(digest.reason(name), digest_id=digest.id))
    return rows, min(opened, default=None)


def due(
    connection: Connection, *, settings: Settings, config: Snapshot, now: datetime
) -> list[tuple[Channel, Message]]:
    """The digests that fall due, each as one message for its channel, marked sent."""
    query = select(digests).where(digests.c.sent_at.is_(None), digests.c.due_at <= now)
    if is_postgres(connection):
        query = query.with_for_update(skip_locked=True)  # one instance sends each digest
    channels = {c.id: c for c in config.chat_channels}
    built = []
    for digest in connection.execute(query.order_by(digests.c.id)).all():
        message, count = _message(connection, digest.id, digest.opened_at, settings)
        channel = channels.get(digest.channel_id)
        if channel is not None and message is not None:
            built.append((channel, message))
        connection.execute(
            update(digests).where(digests.c.id == digest.id).values(sent_at=now, messages=count)
        )
    return built


def next_due(connection: Connection) -> datetime | None:
    return connection.execute(
        select(func.min(digests.c.due_at)).where(digests.c.sent_at.is_(None))
    ).scalar()


def _recent(connection: Connection, channel: str, since: datetime, limit: int) -> int:
    """Messages for the channel since `since`, counted no further than past the threshold."""
    query = select(outbox.c.id).where(outbox.c.channel_name == channel, outbox.c.created_at > since)
    return count_up_to(connection, query, limit + 1)


def _open(connection: Connection, channel: Channel, now: datetime) -> _Open:
    due_at = now + WINDOW
    digest_id = connection.execute(
        insert(digests)
        .values(channel_id=channel.id, channel_name=channel.name, opened_at=now, due_at=due_at)
        .returning(digests.c.id)
    ).scalar_one()
    return _Open(digest_id, due_at)


def _message(
    connection: Connection, digest_id: int, opened_at: datetime, settings: Settings
) -> tuple[Message | None, int]:
    """The digest as one message: how many, by event type and project, and the first few."""
    carried = outbox.c.digest_id == digest_id
    types = connection.execute(
        select(outbox.c.event_type, func.count()).where(carried)
        .group_by(outbox.c.event_type).order_by(func.count().desc(), outbox.c.event_type)
    ).all()  # fmt: skip
    count = sum(n for _, n in types)
    if not count:
        return None, 0
    projects = connection.execute(
        select(events.c.project_slug).join(outbox, outbox.c.event_id == events.c.id)
        .where(carried).group_by(events.c.project_slug).order_by(events.c.project_slug)
    ).scalars().all()  # fmt: skip
    first = connection.execute(
        select(events).join(outbox, outbox.c.event_id == events.c.id)
        .where(carried).order_by(outbox.c.id).limit(FIRST_ITEMS)
    ).all()  # fmt: skip
    fields = [(str(event_type), f"{n:,}") for event_type, n in types[:BY_TYPE]]
    for number, stored in enumerate(first, start=1):
        if len(fields) >= MAX_FIELDS:
            break
        fields.append((f"{number}.", _title(dict(stored._mapping), settings)))
    project = projects[0] if len(projects) == 1 else f"{len(projects):,} projects"
    noun = "message" if count == 1 else "messages"
    return (
        Message(
            title=f"{count:,} {noun} since {opened_at:%H:%M} UTC, in one digest",
            project=project,
            event_type="rbtk.digest",
            event_id=f"digest-{digest_id}",
            occurred_at=format_rfc3339(opened_at),
            fields=fields,
            link=settings.base_url,
        ),
        count,
    )


def _title(stored: dict[str, Any], settings: Settings) -> str:
    raw = stored | {"occurred_at": format_rfc3339(stored["occurred_at"])}
    try:
        return describe(parse_event(raw), base_url=settings.base_url).title
    except EventError:  # stored before a later version's checks: say what it was
        return f"{raw['type']} in {raw['project_slug']}"

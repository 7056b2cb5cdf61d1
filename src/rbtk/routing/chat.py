"""Chat routes: every event that pages nobody goes to the chat channels its rule names.

Rows go through the same outbox as pages, so they share its retries, ordering, rate budget
and delivery log.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from rbtk.channels.message import Message, describe
from rbtk.channels.registry import chat
from rbtk.intake.events import Event
from rbtk.outbox.queue import Status
from rbtk.policy.keys import cap
from rbtk.routing import ordered as ordered_rules
from rbtk.routing.ordered import OrderedRule
from rbtk.runtime.settings import Settings
from rbtk.store.tables import notify_channels, notify_rules, outbox

NOTIFY_PRIORITY = 2  # pages first: a Slack message can wait for a PagerDuty trigger


@dataclass(frozen=True)
class Channel:
    id: int
    name: str
    kind: str  # a key of rbtk.channels.registry.CHAT
    secret: bytes | None  # encrypted
    config: dict[str, Any]
    endpoint: str


class NotifyRule(OrderedRule):
    """A notification rule: its targets are channel names."""

    targets_field = "channels"

    @property
    def channels(self) -> tuple[str, ...]:
        return self.targets


def load_channels(connection: Connection) -> list[Channel]:
    rows = connection.execute(select(notify_channels).order_by(notify_channels.c.id))
    return [Channel(r.id, r.name, r.kind, r.secret, dict(r.config), r.endpoint) for r in rows]


def load_rules(connection: Connection) -> list[NotifyRule]:
    return ordered_rules.load(connection, notify_rules, NotifyRule)


def channels_for(
    event: Event, rules: Sequence[NotifyRule], channels: Sequence[Channel]
) -> list[Channel]:
    """The first rule matching the event's project and type names its channels."""
    rule = ordered_rules.first_match(rules, event.project_slug, event.type)
    return [] if rule is None else [c for c in channels if c.name in rule.channels]


def enqueue(
    connection: Connection, events: Iterable[Event], *, settings: Settings, now: datetime
) -> int:
    """Queue a message per matching channel for each of these (non-paging) events."""
    batch = list(events)
    if not batch:
        return 0
    rules = load_rules(connection)
    if not rules:
        return 0
    channels = load_channels(connection)
    rows = [
        row(channel, describe(event, base_url=settings.base_url), now)
        for event in batch
        for channel in channels_for(event, rules, channels)
    ]
    if rows:
        connection.execute(insert(outbox), rows)
    return len(rows)


def row(channel: Channel, message: Message, now: datetime) -> dict[str, Any]:
    return {
        "channel": channel.kind,
        "connector_id": None,
        "connector_name": channel.name,
        "destination": channel.secret or b"",
        "key_fingerprint": f"{channel.kind}:{channel.id}",
        "endpoint": channel.endpoint,  # never a secret: a Slack URL lives in `destination`
        "event_id": message.event_id,
        "event_type": message.event_type,
        "dedup_key": cap(f"rbtk:notify:{message.event_id}"),
        "action": "notify",
        "severity": "info",
        "priority": NOTIFY_PRIORITY,
        "body": chat(channel.kind).render(message, channel.config),
        "status": Status.QUEUED.value,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "message": None,
        "suppression_id": None,
    }

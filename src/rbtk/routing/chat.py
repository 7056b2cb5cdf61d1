"""Chat routes: every event that pages nobody goes to the chat channels its rule names.

The first notification rule matching an event's project and type names the channels
(`channels_for`); the outbox then writes one row per channel (`rbtk.outbox.chat.messages`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from rbtk.policy.events import Event
from rbtk.routing import ordered_rules
from rbtk.routing.ordered_rules import OrderedRule
from rbtk.store.tables import notify_channels, notify_rules


@dataclass(frozen=True)
class Channel:
    id: int
    name: str
    kind: str  # a key of rbtk.channels.registry.CHAT
    secret: bytes | None  # encrypted
    config: dict[str, Any]
    endpoint: str
    health: bool = False  # marked "rbtk health": told when rbtk cannot page


class ChatRule(OrderedRule):
    """A notification rule: its targets are channel names."""

    targets_field = "channels"

    @property
    def channels(self) -> tuple[str, ...]:
        return self.targets


def load_channels(connection: Connection) -> list[Channel]:
    rows = connection.execute(select(notify_channels).order_by(notify_channels.c.id))
    return [
        Channel(r.id, r.name, r.kind, r.secret, dict(r.config), r.endpoint, r.health) for r in rows
    ]


def load_rules(connection: Connection) -> list[ChatRule]:
    return ordered_rules.load(connection, notify_rules, ChatRule)


def channels_for(
    event: Event, rules: Sequence[ChatRule], channels: Sequence[Channel]
) -> list[Channel]:
    """The first rule matching the event's project and type names its channels."""
    rule = ordered_rules.first_match(rules, event.project_slug, event.type)
    return [] if rule is None else [c for c in channels if c.name in rule.channels]

"""Which connectors a trigger goes to (a resolve goes wherever its trigger went)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from rbtk.policy.rules import Rule
from rbtk.policy.severity import is_sent
from rbtk.policy.state import Kind, Notification
from rbtk.store.tables import connectors


@dataclass(frozen=True)
class Target:
    """A connector as delivery sees it: the key stays encrypted until the request is built."""

    id: int
    name: str
    routing_key: bytes
    key_fingerprint: str
    region: str
    rules: frozenset[Rule]
    send_info: bool
    is_default: bool


def load_targets(connection: Connection) -> list[Target]:
    rows = connection.execute(select(connectors).order_by(connectors.c.id))
    return [_target(row._mapping) for row in rows]


def targets(notification: Notification, candidates: Sequence[Target]) -> list[Target]:
    if notification.kind is Kind.TEST or notification.rule is None:
        return []
    return [
        t
        for t in candidates
        if notification.rule in t.rules and is_sent(notification.severity, send_info=t.send_info)
    ]


def _target(row: Any) -> Target:
    return Target(
        id=row["id"],
        name=row["name"],
        routing_key=row["routing_key"],
        key_fingerprint=row["key_fingerprint"],
        region=row["region"],
        rules=frozenset(Rule(r) for r in row["rules"] if r in Rule.__members__.values()),
        send_info=row["send_info"],
        is_default=row["is_default"],
    )

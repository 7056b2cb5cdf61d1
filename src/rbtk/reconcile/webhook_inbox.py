"""Receiving PagerDuty's webhook deliveries: authenticate, store raw, answer.

PagerDuty waits 5 s for a 2xx and retries or drops otherwise, and three dropped deliveries
in a row disable the subscription: so a delivery is only checked and stored here, in one
short transaction, and applied after it is answered (rbtk.reconcile.webhook_apply). Stored
first, it survives a restart between the answer and the applying.

A delivery is authentic when its signature matches a secret the connector holds: the current
one or the one before it (rbtk.reconcile.webhook_signature). An unknown connector is refused
as a bad signature is, so the endpoint says nothing of which connectors exist. PagerDuty
delivers at least once: a delivery whose X-Webhook-Id the connector already received is
answered again and stored once.

    NotAuthentic — no signature matches a secret of that connector: nothing stored
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from rbtk.reconcile.webhook_signature import authentic
from rbtk.runtime.secrets import Secret, Vault
from rbtk.store.tables import connectors, pagerduty_webhook_events, pagerduty_webhooks

MAX_BODY = 1024 * 1024  # PagerDuty drops any webhook over 256 KB: past 1 MB it is not one


class NotAuthentic(Exception):
    def __init__(self) -> None:
        super().__init__(
            "the X-PagerDuty-Signature header is missing or matches no webhook secret of this "
            "connector: enable its webhooks with 'rbtk admin pd webhooks enable'"
        )


@dataclass(frozen=True)
class Received:
    id: int  # the stored delivery's
    repeated: bool  # received before: nothing new stored


def secrets_of(connection: Connection, vault: Vault, connector: str) -> tuple[int, list[Secret]]:
    """The connector's id and the secrets its deliveries may be signed with; NotAuthentic
    when it has none (no such connector, or its webhooks are not enabled)."""
    row = connection.execute(
        select(
            pagerduty_webhooks.c.connector_id,
            pagerduty_webhooks.c.secret,
            pagerduty_webhooks.c.previous_secret,
        )
        .join(connectors, connectors.c.id == pagerduty_webhooks.c.connector_id)
        .where(connectors.c.name == connector)
    ).first()
    if row is None:
        raise NotAuthentic()
    tokens = [token for token in (row.secret, row.previous_secret) if token]
    return row.connector_id, [vault.decrypt(token) for token in tokens]


def receive(
    connection: Connection,
    vault: Vault,
    *,
    connector: str,
    body: bytes,
    signature: str | None,
    webhook_id: str | None,
    now: datetime,
) -> Received:
    """Store an authentic delivery once per X-Webhook-Id (the body's hash when PagerDuty
    sent none), for `webhook_apply` to apply."""
    connector_id, secrets = secrets_of(connection, vault, connector)
    if not authentic(body, signature, secrets):
        raise NotAuthentic()
    delivery = (webhook_id or "").strip()[:255] or hashlib.sha256(body).hexdigest()
    known = _known(connection, connector_id, delivery)
    if known is not None:
        return Received(known, repeated=True)
    try:
        with connection.begin_nested():
            stored = connection.execute(
                insert(pagerduty_webhook_events)
                .values(
                    connector_id=connector_id,
                    webhook_id=delivery,
                    event_type=event_type(body),
                    received_at=now,
                    body=body.decode("utf-8", "replace"),
                )
                .returning(pagerduty_webhook_events.c.id)
            ).scalar_one()
    except IntegrityError:  # the same delivery, stored by another request a moment ago
        again = _known(connection, connector_id, delivery)
        assert again is not None
        return Received(again, repeated=True)
    return Received(int(stored), repeated=False)


def event_type(body: bytes) -> str | None:
    """The event's type, when the body is a v3 webhook payload."""
    event = parsed(body.decode("utf-8", "replace"))
    kind = event.get("event_type") if event else None
    return kind[:255] if isinstance(kind, str) else None


def parsed(body: str) -> dict[str, Any] | None:
    """The body's `event`, or None when it is not a v3 payload."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    event = document.get("event") if isinstance(document, dict) else None
    return event if isinstance(event, dict) else None


def _known(connection: Connection, connector_id: int, delivery: str) -> int | None:
    return connection.execute(
        select(pagerduty_webhook_events.c.id).where(
            pagerduty_webhook_events.c.connector_id == connector_id,
            pagerduty_webhook_events.c.webhook_id == delivery,
        )
    ).scalar_one_or_none()

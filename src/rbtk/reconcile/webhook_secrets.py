"""A connector's webhook subscription as rbtk keeps it: PagerDuty's id for it, where it
delivers, and the secret it signs with, encrypted like every stored key (rbtk.secret_keys
rotates and resets it). Subscribing again keeps the secret before it as the previous one:
deliveries of the old subscription still being retried by PagerDuty are accepted, while
the new one takes over."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from rbtk.runtime.secrets import Secret, Vault
from rbtk.store.tables import pagerduty_webhooks


@dataclass(frozen=True)
class Subscription:
    connector_id: int
    subscription_id: str
    url: str
    created_at: datetime


def save(
    connection: Connection,
    vault: Vault,
    *,
    connector_id: int,
    subscription_id: str,
    url: str,
    secret: Secret,
    now: datetime,
) -> None:
    """Keep a new subscription of the connector; its secret becomes the current one."""
    before = connection.execute(
        select(pagerduty_webhooks.c.secret).where(pagerduty_webhooks.c.connector_id == connector_id)
    ).scalar_one_or_none()
    values = {
        "subscription_id": subscription_id,
        "url": url,
        "secret": vault.encrypt(secret),
        "previous_secret": before,
        "created_at": now,
    }
    if before is None:
        connection.execute(insert(pagerduty_webhooks).values(connector_id=connector_id, **values))
    else:
        connection.execute(
            update(pagerduty_webhooks)
            .where(pagerduty_webhooks.c.connector_id == connector_id)
            .values(values)
        )


def get(connection: Connection, connector_id: int) -> Subscription | None:
    row = connection.execute(
        select(
            pagerduty_webhooks.c.subscription_id,
            pagerduty_webhooks.c.url,
            pagerduty_webhooks.c.created_at,
        ).where(pagerduty_webhooks.c.connector_id == connector_id)
    ).first()
    if row is None:
        return None
    return Subscription(connector_id, row.subscription_id, row.url, row.created_at)


def forget(connection: Connection, connector_id: int) -> None:
    """Deliveries signed with its secrets are refused from now on."""
    connection.execute(
        delete(pagerduty_webhooks).where(pagerduty_webhooks.c.connector_id == connector_id)
    )

"""Subscribing a connector to PagerDuty's webhooks, through its REST API key: one
subscription filtered to the connector's service, for the incident events rbtk applies
(rbtk.reconcile.webhook_apply), delivering to rbtk's own endpoint.

    enable   create it (the secret PagerDuty shows once is stored encrypted); again: a new
             one replaces it, the old secret still accepted for what PagerDuty still retries
    show     its state at PagerDuty (active, temporarily disabled) and the last delivery seen
    re_enable  enable it again at PagerDuty after it disabled it (3 deliveries dropped)
    ping     ask PagerDuty for a `pagey.ping` and wait until it arrives, signed
    disable  delete it at PagerDuty and forget its secrets

Errors: Invalid (no REST API key or service id, a URL PagerDuty may not deliver to),
UnknownConnector, NotSubscribed, PagerDutyRefused (its REST API said no or did not answer).
"""

import contextlib
import ipaddress
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from rbtk.admin import audit, connectors
from rbtk.context import Context
from rbtk.reconcile import webhook_secrets
from rbtk.reconcile.rest import Rest, RestError, RestNotFound
from rbtk.reconcile.webhook_apply import USED
from rbtk.reconcile.webhook_secrets import Subscription
from rbtk.runtime.errors import Invalid, NotFound
from rbtk.runtime.secrets import Secret
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.tables import connectors as connectors_table
from rbtk.store.tables import pagerduty_webhook_events

ENDPOINT = "/api/v1/pagerduty/webhooks/{connector}"
PING = "pagey.ping"


class NotSubscribed(NotFound):
    def __init__(self, connector: str) -> None:
        super().__init__(
            f"connector {connector!r} has no webhook subscription: enable it with 'rbtk admin "
            f"pd webhooks enable --connector {connector}'"
        )


class PagerDutyRefused(Exception):
    """PagerDuty's REST API refused or did not answer: the message says which and why."""


@dataclass(frozen=True)
class WebhookState:
    connector: str
    subscription_id: str
    url: str
    created_at: datetime
    active: bool | None  # at PagerDuty; None when it could not be read
    temporarily_disabled: bool | None  # after 3 deliveries dropped in a row
    last_delivery_at: datetime | None  # the newest delivery rbtk received
    last_event_type: str | None
    error: str | None = None  # why PagerDuty could not be read

    def to_json(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "subscription_id": self.subscription_id,
            "url": self.url,
            "created_at": format_rfc3339(self.created_at),
            "active": self.active,
            "temporarily_disabled": self.temporarily_disabled,
            "last_delivery_at": None
            if self.last_delivery_at is None
            else format_rfc3339(self.last_delivery_at),
            "last_event_type": self.last_event_type,
            "error": self.error,
        }


@dataclass(frozen=True)
class _Target:
    id: int
    name: str
    region: str
    service_id: str | None
    rest_key: bytes | None


def enable(
    context: Context, *, connector: str, url: str | None, by: str, now: datetime
) -> WebhookState:
    """Subscribe the connector (blocking: it calls PagerDuty)."""
    with context.reads.connect() as connection:
        target = _target(connection, connector)
        before = webhook_secrets.get(connection, target.id)
    url = _checked(url or _default_url(context, connector))
    try:
        with _rest(context, target) as rest:
            assert target.service_id is not None  # _rest checked it
            made = rest.create_webhook_subscription(
                url=url,
                service_id=target.service_id,
                events=sorted(USED),
                description=f"rbtk: what happens to the incidents of connector {connector}",
            )
            secret = (made.get("delivery_method") or {}).get("secret")
            if not secret:
                raise PagerDutyRefused("PagerDuty created the subscription without its secret")
            if before is not None:
                _delete_quietly(rest, before.subscription_id)
    except RestError as error:
        raise PagerDutyRefused(str(error)) from None
    with context.engine.begin() as connection:
        webhook_secrets.save(
            connection, context.vault, connector_id=target.id, subscription_id=str(made["id"]),
            url=url, secret=Secret(str(secret)), now=now,
        )  # fmt: skip
        after = webhook_secrets.get(connection, target.id)
        _audit(connection, "webhooks.enable", connector, before, after, by=by, at=now)
    assert after is not None
    return _state(context, connector, after, made)


def show(context: Context, *, connector: str) -> WebhookState:
    """The subscription as rbtk keeps it and as PagerDuty has it (blocking)."""
    with context.reads.connect() as connection:
        target = _target(connection, connector)
        kept = _kept(connection, target, connector)
    try:
        with _rest(context, target) as rest:
            remote = rest.webhook_subscription(kept.subscription_id)
    except RestError as error:
        return _state(context, connector, kept, None, error=str(error))
    return _state(context, connector, kept, remote)


def re_enable(context: Context, *, connector: str) -> WebhookState:
    """Enable again at PagerDuty a subscription it disabled (blocking)."""
    with context.reads.connect() as connection:
        target = _target(connection, connector)
        kept = _kept(connection, target, connector)
    try:
        with _rest(context, target) as rest:
            remote = rest.enable_webhook_subscription(kept.subscription_id)
    except RestError as error:
        raise PagerDutyRefused(str(error)) from None
    return _state(context, connector, kept, remote)


def ping(context: Context, *, connector: str, wait_s: float) -> bool:
    """Have PagerDuty send a ping; whether it arrived (signed, so stored) within `wait_s`."""
    started = datetime.now(UTC)
    with context.reads.connect() as connection:
        target = _target(connection, connector)
        kept = _kept(connection, target, connector)
    try:
        with _rest(context, target) as rest:
            rest.ping_webhook_subscription(kept.subscription_id)
    except RestError as error:
        raise PagerDutyRefused(str(error)) from None
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with context.reads.connect() as connection:
            if _pinged_since(connection, target.id, started):
                return True
        time.sleep(0.1)  # an operator's command waiting on PagerDuty, not a worker's loop
    return False


def disable(context: Context, *, connector: str, by: str, now: datetime) -> None:
    """Delete the subscription at PagerDuty (gone already is fine) and forget its secrets."""
    with context.reads.connect() as connection:
        target = _target(connection, connector)
        kept = _kept(connection, target, connector)
    try:
        with _rest(context, target) as rest:
            _delete_quietly(rest, kept.subscription_id)
    except RestError as error:
        raise PagerDutyRefused(str(error)) from None
    with context.engine.begin() as connection:
        webhook_secrets.forget(connection, target.id)
        _audit(connection, "webhooks.disable", connector, kept, None, by=by, at=now)


def _target(connection: Connection, name: str) -> _Target:
    view = connectors.get(connection, name=name)
    token = connection.execute(
        select(connectors_table.c.rest_key).where(connectors_table.c.id == view.id)
    ).scalar()
    return _Target(view.id, view.name, view.region, view.service_id, token)


def _kept(connection: Connection, target: _Target, connector: str) -> Subscription:
    kept = webhook_secrets.get(connection, target.id)
    if kept is None:
        raise NotSubscribed(connector)
    return kept


def _rest(context: Context, target: _Target) -> Rest:
    if target.rest_key is None or not target.service_id:
        raise Invalid(
            f"connector {target.name!r} needs a REST API key and a service id for PagerDuty's "
            "webhooks (a key that may manage webhook subscriptions): set them with 'rbtk admin "
            f"pd connectors update {target.name} --rest-key … --service-id PXXXXXX'"
        )
    return Rest.of(context.settings, context.vault, region=target.region, token=target.rest_key)


def _delete_quietly(rest: Rest, subscription_id: str) -> None:
    with contextlib.suppress(RestNotFound):  # deleted at PagerDuty already
        rest.delete_webhook_subscription(subscription_id)


def _default_url(context: Context, connector: str) -> str:
    return context.settings.public_url.rstrip("/") + ENDPOINT.format(connector=connector)


def _checked(url: str) -> str:
    """https, or plain http to a loopback address (tests, the emulator): PagerDuty signs its
    deliveries but does not encrypt them."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and _loopback(host):
        return url
    raise Invalid(
        "url: PagerDuty delivers webhooks to an https:// URL (plain http only to a loopback "
        "address); set RBTK_PUBLIC_URL to where PagerDuty reaches rbtk, or give --url",
        field="url",
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pinged_since(connection: Connection, connector_id: int, since: datetime) -> bool:
    found = connection.execute(
        select(pagerduty_webhook_events.c.id).where(
            pagerduty_webhook_events.c.connector_id == connector_id,
            pagerduty_webhook_events.c.event_type == PING,
            pagerduty_webhook_events.c.received_at >= since,
        )
    ).first()
    return found is not None


def _state(
    context: Context,
    connector: str,
    kept: Subscription,
    remote: dict[str, Any] | None,
    *,
    error: str | None = None,
) -> WebhookState:
    with context.reads.connect() as connection:
        last = connection.execute(
            select(pagerduty_webhook_events.c.received_at, pagerduty_webhook_events.c.event_type)
            .where(pagerduty_webhook_events.c.connector_id == kept.connector_id)
            .order_by(pagerduty_webhook_events.c.id.desc())
            .limit(1)
        ).first()
    method = (remote or {}).get("delivery_method") or {}
    return WebhookState(
        connector=connector,
        subscription_id=kept.subscription_id,
        url=kept.url,
        created_at=kept.created_at,
        active=None if remote is None else bool(remote.get("active")),
        temporarily_disabled=None if remote is None else bool(method.get("temporarily_disabled")),
        last_delivery_at=None if last is None else last.received_at,
        last_event_type=None if last is None else last.event_type,
        error=error,
    )


def _audit(
    connection: Connection,
    action: str,
    connector: str,
    before: Subscription | None,
    after: Subscription | None,
    *,
    by: str,
    at: datetime,
) -> None:
    def shown(kept: Subscription | None) -> dict[str, Any] | None:
        return None if kept is None else {"subscription_id": kept.subscription_id, "url": kept.url}

    audit.record(
        connection, by=by, action=action, target=connector, before=shown(before),
        after=shown(after), at=at,
    )  # fmt: skip

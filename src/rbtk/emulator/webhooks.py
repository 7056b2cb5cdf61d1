"""Webhooks v3 as PagerDuty sends them: subscriptions, and signed deliveries of incident events.

A subscription (`POST /webhook_subscriptions`) names a URL, the event types it wants and a
filter (a service, or the whole account); its secret is shown only in the answer that creates
it. Each change of an incident it covers (opened, acknowledged, resolved, through the Events
API or by hand at `/_control`) is one delivery: `{"event": {...}}`, signed
`X-PagerDuty-Signature: v1=<HMAC-SHA256 of the body with the secret, hex>`, with an
`X-Webhook-Id` repeated on each attempt.

Delivery follows PagerDuty's rules (docs/webhooks/02-Behavior.md): one sender thread per
subscription keeps its deliveries in order; each attempt waits at most `timeout_s` (5 s); a
timeout, a refused connection, a 5xx or a 429 is tried again, backing off, for `retry_for_s`
(48 h), the deliveries behind it waiting; any other 4xx drops it. Three dropped in a row
disable the subscription for a while (`temporarily_disabled`, until `/enable`), and what waited
is dropped with it. Signing here is written from PagerDuty's documentation, not shared with
rbtk's check, so a mistake in one does not hide in the other.
"""

import hashlib
import hmac
import json
import queue
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from rbtk.emulator import rest_shapes
from rbtk.emulator.incidents import Filed
from rbtk.runtime.timefmt import format_rfc3339

API_URL = "https://api.pagerduty.invalid"  # the `self` links of what a delivery carries
DROPS_TO_DISABLE = 3


@dataclass
class Subscription:
    id: str
    url: str
    secret: str
    events: tuple[str, ...]
    filter: dict[str, str]
    description: str
    active: bool = True
    temporarily_disabled: bool = False
    dropped_in_a_row: int = 0

    def covers(self, event_type: str, service_id: str) -> bool:
        wanted = self.filter.get("type") == "account_reference" or (
            self.filter.get("type") == "service_reference" and self.filter.get("id") == service_id
        )
        return wanted and event_type in self.events

    def to_json(self, *, with_secret: bool = False) -> dict[str, object]:
        return {
            "id": self.id,
            "type": "webhook_subscription",
            "active": self.active,
            "delivery_method": {
                "id": self.id,
                "type": "http_delivery_method",
                "url": self.url,
                "secret": self.secret if with_secret else None,
                "temporarily_disabled": self.temporarily_disabled,
                "custom_headers": [],
            },
            "description": self.description,
            "events": list(self.events),
            "filter": dict(self.filter),
        }


@dataclass
class Attempted:
    """One delivery and how it went, for `/_inspect/webhooks`."""

    subscription_id: str
    webhook_id: str
    event_type: str
    body: bytes
    attempts: int = 0
    statuses: list[int | None] = field(default_factory=list)  # None: timeout or no connection
    outcome: str = "queued"  # queued, delivered, dropped

    def to_json(self) -> dict[str, object]:
        return {
            "subscription_id": self.subscription_id,
            "webhook_id": self.webhook_id,
            "event_type": self.event_type,
            "attempts": self.attempts,
            "statuses": list(self.statuses),
            "outcome": self.outcome,
            "body": json.loads(self.body),
        }


@dataclass(frozen=True)
class DeliveryRules:
    timeout_s: float = 5.0
    retry_first_s: float = 0.5
    retry_max_s: float = 60.0
    retry_for_s: float = 48 * 3600.0


class Webhooks:
    """Every subscription and its sender. Thread-safe: the app calls it from its event loop
    (with the state's lock held); senders run on their own threads."""

    def __init__(self, rules: DeliveryRules | None = None) -> None:
        self.rules = rules or DeliveryRules()
        self._lock = threading.Lock()
        self._subscriptions: dict[str, Subscription] = {}
        self._queues: dict[str, queue.Queue[Attempted | None]] = {}
        self._attempted: list[Attempted] = []

    def subscribe(
        self, *, url: str, events: list[str], filter: dict[str, str], description: str
    ) -> Subscription:
        subscription = Subscription(
            id="P" + uuid.uuid4().hex[:13].upper(),
            url=url,
            secret=secrets.token_urlsafe(48),
            events=tuple(dict.fromkeys(events)),
            filter=filter,
            description=description,
        )
        with self._lock:
            self._subscriptions[subscription.id] = subscription
        return subscription

    def get(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            return self._subscriptions.get(subscription_id)

    def all(self) -> list[Subscription]:
        with self._lock:
            return list(self._subscriptions.values())

    def delete(self, subscription_id: str) -> bool:
        with self._lock:
            found = self._subscriptions.pop(subscription_id, None)
            waiting = self._queues.pop(subscription_id, None)
        if waiting is not None:
            waiting.put(None)
        return found is not None

    def enable(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            found = self._subscriptions.get(subscription_id)
            if found is not None:
                found.temporarily_disabled, found.dropped_in_a_row = False, 0
            return found

    def ping(self, subscription_id: str) -> bool:
        subscription = self.get(subscription_id)
        if subscription is None:
            return False
        data: dict[str, object] = {"message": "Hello from your friend Pagey!", "type": "ping"}
        self._send(subscription, "pagey.ping", "pagey", data, agent=None)
        return True

    def incident_changed(
        self, event_type: str, filed: Filed, *, agent: dict[str, object] | None
    ) -> None:
        """An incident was triggered, acknowledged or resolved: tell who subscribed to it."""
        for subscription in self.all():
            if subscription.active and subscription.covers(event_type, filed.service.id):
                data = {**rest_shapes.incident(filed, API_URL), "resolve_reason": None}
                self._send(subscription, event_type, "incident", data, agent=agent)

    def attempted(self) -> list[Attempted]:
        with self._lock:
            return list(self._attempted)

    def close(self) -> None:
        """Stop every sender (what waits is dropped)."""
        with self._lock:
            queues, self._queues = list(self._queues.values()), {}
            self._subscriptions = {}
        for waiting in queues:
            waiting.put(None)

    def _send(
        self,
        subscription: Subscription,
        event_type: str,
        resource_type: str,
        data: dict[str, object],
        *,
        agent: dict[str, object] | None,
    ) -> None:
        if subscription.temporarily_disabled:
            return
        event = {
            "event": {
                "id": uuid.uuid4().hex,
                "event_type": event_type,
                "resource_type": resource_type,
                "occurred_at": format_rfc3339(datetime.now(UTC)),
                "agent": agent,
                "client": None,
                "data": data,
            }
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        delivery = Attempted(subscription.id, uuid.uuid4().hex, event_type, body)
        with self._lock:
            self._attempted.append(delivery)
            waiting = self._queues.get(subscription.id)
            if waiting is None:
                waiting = self._queues[subscription.id] = queue.Queue()
                threading.Thread(
                    target=self._deliver_all,
                    args=(subscription, waiting),
                    name=f"pd-emulator-webhooks-{subscription.id}",
                    daemon=True,
                ).start()
        waiting.put(delivery)

    def _deliver_all(
        self, subscription: Subscription, waiting: "queue.Queue[Attempted | None]"
    ) -> None:
        with httpx.Client(timeout=self.rules.timeout_s, follow_redirects=False) as client:
            while (delivery := waiting.get()) is not None:
                if subscription.temporarily_disabled:
                    delivery.outcome = "dropped"
                    continue
                delivered = self._deliver(client, subscription, delivery, waiting)
                delivery.outcome = "delivered" if delivered else "dropped"
                with self._lock:
                    subscription.dropped_in_a_row = 0 if delivered else (
                        subscription.dropped_in_a_row + 1
                    )  # fmt: skip
                    if subscription.dropped_in_a_row >= DROPS_TO_DISABLE:
                        subscription.temporarily_disabled = True

    def _deliver(
        self,
        client: httpx.Client,
        subscription: Subscription,
        delivery: Attempted,
        waiting: "queue.Queue[Attempted | None]",
    ) -> bool:
        signature = hmac.new(subscription.secret.encode(), delivery.body, hashlib.sha256)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "PagerDuty-Webhook/V3.0",
            "X-PagerDuty-Signature": f"v1={signature.hexdigest()}",
            "X-Webhook-Id": delivery.webhook_id,
            "X-Webhook-Subscription": subscription.id,
        }
        started, wait = time.monotonic(), self.rules.retry_first_s
        while self._queues.get(subscription.id) is waiting:  # not deleted, nor reset
            delivery.attempts += 1
            status = _post(client, subscription.url, delivery.body, headers)
            delivery.statuses.append(status)
            if status is not None and 200 <= status < 300:
                return True
            if status is not None and status != 429 and status < 500:
                return False
            if time.monotonic() - started + wait > self.rules.retry_for_s:
                return False
            time.sleep(wait)
            wait = min(wait * 2, self.rules.retry_max_s)
        return False


def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> int | None:
    try:
        return client.post(url, content=body, headers=headers).status_code
    except httpx.HTTPError:
        return None


def subscription_request(document: Any) -> dict[str, Any] | str:
    """The fields of a create request, or what is wrong with it (a 400's message)."""
    wanted = document.get("webhook_subscription") if isinstance(document, dict) else None
    if not isinstance(wanted, dict):
        return "webhook_subscription is required"
    method = wanted.get("delivery_method") or {}
    url = method.get("url") if isinstance(method, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return "delivery_method.url must be an http or https URL"
    events = wanted.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        return "events must list at least one event type"
    filter_ = wanted.get("filter") or {}
    kind = filter_.get("type") if isinstance(filter_, dict) else None
    if kind not in ("account_reference", "service_reference", "team_reference"):
        return "filter.type must be account_reference, service_reference or team_reference"
    if kind != "account_reference" and not filter_.get("id"):
        return "filter.id is required for this filter type"
    return {
        "url": url,
        "events": events,
        "filter": {k: str(v) for k, v in filter_.items() if k in ("type", "id")},
        "description": str(wanted.get("description") or ""),
    }

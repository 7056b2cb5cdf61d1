"""PagerDuty's REST API, the little of it rbtk uses: a service's open incidents (and their
alerts' keys), one incident by its key, the service's settings, and the webhook subscription
that tells rbtk what happens to its incidents (rbtk.reconcile.webhook_subscriptions).

Errors, each message saying what to do (the key is never in one):

    RestError ── RestAuthError — 401 or 403: the key is wrong, revoked or may not read this
             ── RestNotFound — 404: no such service (or incident)
             ── RestUnavailable — no answer, a 5xx, or still throttled after waiting
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx

from rbtk.runtime.secrets import Secret, Vault
from rbtk.runtime.settings import Settings
from rbtk.runtime.timefmt import parse_rfc3339

ACCEPT: Final = "application/vnd.pagerduty+json;version=2"
PAGE: Final = 100  # the most PagerDuty returns per request
MAX_PAGES: Final = 100  # 10,000 open incidents: past that, a pass reads no further
THROTTLED_TRIES: Final = 3
MAX_WAIT_S: Final = 30.0


class RestError(Exception):
    pass


class RestAuthError(RestError):
    pass


class RestNotFound(RestError):
    pass


class RestUnavailable(RestError):
    pass


@dataclass(frozen=True)
class RemoteIncident:
    """An incident as PagerDuty lists it; `keys` are its dedup keys (the incident's, and its
    alerts' when grouping merged several)."""

    id: str
    number: int | None
    title: str
    status: str
    urgency: str
    service_id: str
    keys: frozenset[str]
    created_at: datetime | None
    html_url: str | None


class Rest:
    """One connector's view of the REST API, with its key and region's host."""

    def __init__(
        self,
        base_url: str,
        key: Secret,
        *,
        timeout_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Token token={key.reveal()}", "Accept": ACCEPT},
            timeout=timeout_s,
            follow_redirects=False,
        )
        self._sleep = sleep

    @classmethod
    def of(cls, settings: Settings, vault: Vault, *, region: str, token: bytes) -> "Rest":
        """A connector's: its region's API host, its stored (encrypted) REST API key."""
        return cls(
            settings.pagerduty_api(region),
            vault.decrypt(token),
            timeout_s=settings.pagerduty_timeout_s,
        )

    def __enter__(self) -> "Rest":
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def open_incidents(self, service_id: str) -> list[RemoteIncident]:
        """Triggered and acknowledged incidents of the service, all of them (date_range=all)."""
        params = [
            ("service_ids[]", service_id),
            ("statuses[]", "triggered"),
            ("statuses[]", "acknowledged"),
            ("date_range", "all"),
        ]
        found = []
        for item in self._pages("/incidents", params, "incidents", what=f"service {service_id}"):
            found.append(self._incident(item))
        return found

    def incident_by_key(self, key: str, service_id: str | None = None) -> RemoteIncident | None:
        """The incident of that dedup key, on the service, or on any the key may see."""
        params = [("incident_key", key), ("date_range", "all")]
        if service_id is not None:
            params.append(("service_ids[]", service_id))
        what = f"service {service_id}" if service_id else "incidents"
        for item in self._pages("/incidents", params, "incidents", what=what):
            return self._incident(item)
        return None

    def service(self, service_id: str) -> dict[str, Any]:
        body = self._get(f"/services/{service_id}", [], what=f"service {service_id}")
        service = body.get("service")
        if not isinstance(service, dict):
            raise RestUnavailable("PagerDuty answered a service without its settings")
        return service

    def create_webhook_subscription(
        self, *, url: str, service_id: str, events: list[str], description: str
    ) -> dict[str, Any]:
        """A new subscription, its secret shown this once (`delivery_method.secret`)."""
        wanted = {
            "type": "webhook_subscription",
            "delivery_method": {"type": "http_delivery_method", "url": url},
            "events": events,
            "filter": {"type": "service_reference", "id": service_id},
            "description": description,
        }
        body = self._call(
            "POST", "/webhook_subscriptions", [], what="webhook subscriptions",
            json={"webhook_subscription": wanted},
        )  # fmt: skip
        return _subscription(body)

    def webhook_subscription(self, subscription_id: str) -> dict[str, Any]:
        path = f"/webhook_subscriptions/{subscription_id}"
        return _subscription(self._call("GET", path, [], what=f"subscription {subscription_id}"))

    def enable_webhook_subscription(self, subscription_id: str) -> dict[str, Any]:
        path = f"/webhook_subscriptions/{subscription_id}/enable"
        return _subscription(self._call("POST", path, [], what=f"subscription {subscription_id}"))

    def ping_webhook_subscription(self, subscription_id: str) -> None:
        path = f"/webhook_subscriptions/{subscription_id}/ping"
        self._call("POST", path, [], what=f"subscription {subscription_id}")

    def delete_webhook_subscription(self, subscription_id: str) -> None:
        path = f"/webhook_subscriptions/{subscription_id}"
        self._call("DELETE", path, [], what=f"subscription {subscription_id}")

    def _incident(self, item: dict[str, Any]) -> RemoteIncident:
        keys = {item["incident_key"]} if item.get("incident_key") else set()
        if not any(key.startswith("rbtk:") for key in keys):
            # Grouping put alerts under an incident of another key: read theirs.
            keys |= {
                alert["alert_key"]
                for alert in self._pages(
                    f"/incidents/{item['id']}/alerts", [], "alerts", what=f"incident {item['id']}"
                )
                if alert.get("alert_key")
            }
        created = item.get("created_at")
        return RemoteIncident(
            id=str(item["id"]),
            number=item.get("incident_number"),
            title=str(item.get("title") or item.get("summary") or ""),
            status=str(item.get("status")),
            urgency=str(item.get("urgency")),
            service_id=str((item.get("service") or {}).get("id", "")),
            keys=frozenset(keys),
            created_at=parse_rfc3339(created) if created else None,
            html_url=item.get("html_url"),
        )

    def _pages(
        self, path: str, params: list[tuple[str, str]], field: str, *, what: str
    ) -> Iterator[dict[str, Any]]:
        for page in range(MAX_PAGES):
            paged = [*params, ("limit", str(PAGE)), ("offset", str(page * PAGE))]
            body = self._get(path, paged, what=what)
            yield from body.get(field) or []
            if not body.get("more"):
                return

    def _get(self, path: str, params: list[tuple[str, str]], *, what: str) -> dict[str, Any]:
        return self._call("GET", path, params, what=what)

    def _call(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        *,
        what: str,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        for attempt in range(THROTTLED_TRIES):
            try:
                response = self._client.request(method, path, params=tuple(params), json=json)
            except httpx.HTTPError as error:
                raise RestUnavailable(
                    f"could not reach PagerDuty's REST API at {self._client.base_url}: "
                    f"{type(error).__name__}"
                ) from None
            if response.status_code == 429 and attempt + 1 < THROTTLED_TRIES:
                self._sleep(_wait_s(response.headers))
                continue
            return _read(response, what)
        raise AssertionError("unreachable")  # pragma: no cover


def _read(response: httpx.Response, what: str) -> dict[str, Any]:
    status = response.status_code
    said = _message(response)
    if status == 204 or (status == 202 and not response.content):
        return {}
    if 200 <= status < 300:
        body = response.json()
        if not isinstance(body, dict):
            raise RestUnavailable("PagerDuty's REST API answered something other than an object")
        return body
    if status == 401:
        raise RestAuthError(
            f"PagerDuty's REST API refused the REST API key (HTTP 401{said}): set a valid "
            "key on the connector (read-only is enough)"
        )
    if status == 403:
        raise RestAuthError(
            f"the REST API key may not read {what} (HTTP 403{said}): use a key of an account "
            "that can see the service"
        )
    if status == 404:
        raise RestNotFound(f"PagerDuty has no {what} (HTTP 404{said}): check the service id")
    if status == 429:
        raise RestUnavailable(
            f"PagerDuty's REST API is rate limiting this key (HTTP 429{said}); the next pass "
            "tries again"
        )
    raise RestUnavailable(f"PagerDuty's REST API answered HTTP {status}{said}")


def _subscription(body: dict[str, Any]) -> dict[str, Any]:
    found = body.get("webhook_subscription")
    if not isinstance(found, dict) or not found.get("id"):
        raise RestUnavailable("PagerDuty answered without the webhook subscription")
    return found


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    if isinstance(error, dict) and error.get("message"):
        return f": {str(error['message'])[:200]}"
    return ""


def _wait_s(headers: httpx.Headers) -> float:
    """PagerDuty's REST API says when to come back in `ratelimit-reset` (seconds); some
    proxies say `Retry-After`."""
    for name in ("ratelimit-reset", "retry-after"):
        try:
            return min(MAX_WAIT_S, max(0.0, float(headers[name])))
        except (KeyError, ValueError):
            continue
    return 1.0

"""PagerDuty Events API v2: what its answers mean (bodies are in pagerduty_body)."""

import json
import logging
from collections.abc import Mapping

from rbtk.channels.base import (
    HTTP,
    Delivery,
    Io,
    Limits,
    Request,
    Result,
    Retrier,
    Verdict,
    configured,
    retry_after,
    storable,
)
from rbtk.channels.pagerduty_body import encode
from rbtk.runtime.settings import Settings

kind = "pagerduty"
address_is_secret = False  # every connector posts to the Events API URL the row stores
peer = "PagerDuty"
_MAX_MESSAGE = 2000

log = logging.getLogger(__name__)


def change_endpoint(events_url: str) -> str:
    """The Change Events API beside an Events API URL: `…/v2/enqueue` → `…/v2/change/enqueue`."""
    base, _, last = events_url.rstrip("/").rpartition("/")
    return f"{base}/change/{last}"


def limits(settings: Settings) -> Limits:
    """PagerDuty's budget is per integration key (about 120 events a minute)."""
    declared = Limits(
        rate_per_min=settings.pagerduty_rate_per_min,
        timeout_s=settings.pagerduty_timeout_s,
        concurrency=settings.pagerduty_concurrency,
    )
    return configured(settings, kind, declared)


async def send(delivery: Delivery, io: Io) -> Result:
    if delivery.secret is None:  # every PagerDuty row is written with its routing key
        return Result(Verdict.FAILED, None, "no integration key stored for this delivery")
    body = encode({"routing_key": delivery.secret.reveal(), **delivery.body})
    return await io.post(Request(delivery.endpoint, body), classify, peer)


# The Events API: only 202 is delivered; a 429 limits one routing key, while 408 and 5xx say
# the endpoint is down for everyone; 400 (and anything else) is permanent.
RETRIER = Retrier(sent=frozenset({202}), retry=HTTP.retry, down=HTTP.down)


def classify(status: int, headers: Mapping[str, str], body: bytes) -> Result:
    """What an answer of the Events API means, by `RETRIER`, with PagerDuty's own message."""
    message, errors = _read(body)
    verdict = RETRIER.verdict(status)
    if verdict is Verdict.SENT:
        return Result(Verdict.SENT, status, message or "Event processed")
    if verdict is Verdict.RETRY:
        default = "rate limited by PagerDuty" if status == 429 else f"PagerDuty answered {status}"
        return Result(
            Verdict.RETRY,
            status,
            message or default,
            retry_after_s=retry_after(headers.get("Retry-After")),
            endpoint_down=RETRIER.endpoint_down(status),
        )
    if status == 400:
        message = message or "PagerDuty rejected the event"
        # Permanent: this page will never arrive, so an operator must see it.
        log.warning("PagerDuty refused an event for good (400): %s %s", message, errors or "")
        return Result(Verdict.FAILED, status, message, errors)
    # Anything else (a proxy's 403, a 404 from a wrong URL) will not fix itself on retry.
    return Result(Verdict.FAILED, status, message or f"unexpected answer {status}", errors)


def _read(body: bytes) -> tuple[str, list[str] | None]:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return body[:_MAX_MESSAGE].decode(errors="replace").strip(), None
    if not isinstance(parsed, dict):
        return "", None
    message = storable(str(parsed.get("message") or "")[:_MAX_MESSAGE])
    errors = parsed.get("errors")
    if isinstance(errors, list):
        return message, [storable(str(e)[:_MAX_MESSAGE]) for e in errors[:50]]
    return message, None

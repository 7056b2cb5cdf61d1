"""Generic webhooks: a documented JSON body POSTed to any HTTPS URL, signed with HMAC-SHA256.

The body (version 1):

    {"version": 1,
     "event": {"id", "type", "project", "occurred_at"},
     "title": "...", "fields": [{"name", "value"}], "link": "https://..."}

Two headers let the receiver check that rbtk sent it, and when:

    X-Rbtk-Timestamp: 1764559200                      (Unix seconds, when it was sent)
    X-Rbtk-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the channel secret>

The timestamp is inside what is signed, so a receiver that refuses timestamps older than a
few minutes refuses replays too. The URL is shown in the clear (put secrets in the signing
secret, not in the URL); the signing secret is stored encrypted and shown masked.
"""

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from rbtk.channels.base import (
    HTTP,
    Delivery,
    Destination,
    Field,
    InvalidDestination,
    Io,
    Limits,
    Request,
    Result,
    Verdict,
    configured,
    retry_after,
)
from rbtk.channels.message import Message
from rbtk.channels.pagerduty_body import encode
from rbtk.channels.public_url import URL_SCHEMA, checked_url
from rbtk.runtime.secrets import Secret
from rbtk.runtime.settings import Settings

kind = "webhook"
address_is_secret = False  # the row's endpoint is the URL itself; only the signing secret is secret
digests = False  # a program reads each message: every one is sent as it is
label = "Webhook"
peer = "the webhook"
summary = "signed JSON POST"  # beside the label where a kind is chosen
MIN_SECRET = 16
MAX_SECRET = 256
fields: tuple[Field, ...] = (
    Field("url", "URL", "Where to POST, e.g. https://hooks.example.com/rbtk", schema=URL_SCHEMA),
    Field(
        "signing_secret",
        "Signing secret",
        "Signs each request (X-Rbtk-Signature); at least 16 characters",
        secret=True,
        schema={
            "type": "string",
            "minLength": MIN_SECRET,
            "maxLength": MAX_SECRET,
            "pattern": "^[^\\x00]*$",
        },
    ),
)
EXAMPLE = "https://hooks.example.com/rbtk"


LIMITS = Limits(rate_per_min=60, timeout_s=10.0, concurrency=8)


def limits(settings: Settings) -> Limits:
    return configured(settings, kind, LIMITS)


def validate(values: Mapping[str, Any], *, allow_private: bool) -> Destination:
    url = values.get("url")
    if not isinstance(url, str) or not url:
        raise InvalidDestination(f"url: a webhook channel needs one, e.g. {EXAMPLE}", field="url")
    secret = values.get("signing_secret")
    if not isinstance(secret, str) or not secret:
        raise InvalidDestination(
            f"signing_secret: a webhook channel needs one, at least {MIN_SECRET} characters",
            field="signing_secret",
        )
    if not MIN_SECRET <= len(secret) <= MAX_SECRET:
        raise InvalidDestination(
            f"signing_secret: must be {MIN_SECRET} to {MAX_SECRET} characters, got {len(secret)}",
            field="signing_secret",
        )
    checked = checked_url(
        url,
        field="url",
        expected=f"expected an https URL such as {EXAMPLE}",
        allow_private=allow_private,
        http_to_loopback=True,
    )
    return Destination(secret=Secret(secret), config={"url": checked}, endpoint=checked)


def describe(config: Mapping[str, Any], secret_masked: str | None) -> str:
    return f"{config['url']} (signed with {secret_masked})"


def render(message: Message, config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "event": {
            "id": message.event_id,
            "type": message.event_type,
            "project": message.project,
            "occurred_at": message.occurred_at,
        },
        "title": message.title,
        "fields": [{"name": name, "value": value} for name, value in message.fields],
        "link": message.link,
    }


async def send(delivery: Delivery, io: Io) -> Result:
    if delivery.secret is None:  # every webhook row is written with its signing secret
        return Result(Verdict.FAILED, None, "no signing secret stored for this webhook")
    return await io.post(
        request(delivery.endpoint, encode(delivery.body), delivery.secret), classify, peer
    )


def request(endpoint: str, body: bytes, secret: Secret, *, now: float | None = None) -> Request:
    timestamp = str(int(time.time() if now is None else now))
    return Request(endpoint, body, {"X-Rbtk-Timestamp": timestamp, **sign(secret, timestamp, body)})


def sign(secret: Secret, timestamp: str, body: bytes) -> dict[str, str]:
    signed = timestamp.encode() + b"." + body
    digest = hmac.new(secret.reveal().encode(), signed, hashlib.sha256).hexdigest()
    return {"X-Rbtk-Signature": f"sha256={digest}"}


RETRIER = HTTP  # as Slack: 2xx delivered; 408, 429 and 5xx retried (5xx and 408: down)


def classify(status: int, headers: Mapping[str, str], content: bytes) -> Result:
    """What the webhook's answer means, by `RETRIER`.

    Only the status is kept: a webhook's answer body is not ours to store or show."""
    verdict = RETRIER.verdict(status)
    if verdict is Verdict.SENT:
        return Result(Verdict.SENT, status, f"the webhook answered {status}")
    if verdict is Verdict.RETRY:
        return Result(
            Verdict.RETRY,
            status,
            f"the webhook answered {status}",
            retry_after_s=retry_after(headers.get("Retry-After")),
            endpoint_down=RETRIER.endpoint_down(status),
        )
    return Result(Verdict.FAILED, status, f"the webhook refused the message ({status})")

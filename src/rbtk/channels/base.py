"""What every channel declares, and what a channel's answer means for delivery.

A channel is a module (as healthchecks keeps one per integration) that the registry
(`rbtk.channels.registry`) lists once. Every channel says how it is sent (`Channel`); a chat
channel, which operators add by name and choose with notification rules, also says what its
destination takes, how it is checked and stored, and how a message renders (`ChatChannel`).
PagerDuty connectors have their own administration (`rbtk.admin.connectors`).
"""

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from rbtk.channels.message import Message
from rbtk.runtime.secrets import Secret
from rbtk.runtime.settings import Settings

T = TypeVar("T")

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """Text any database keeps: a peer's answer may carry NUL (PostgreSQL refuses it in text)
    or lone surrogates from JSON escapes (not encodable as UTF-8); both become U+FFFD, as
    undecodable bytes already do when the answer is read."""
    return _UNSTORABLE.sub("\ufffd", text)


class Verdict(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    http_status: int | None
    message: str
    errors: list[str] | None = None
    retry_after_s: float | None = None
    latency_ms: float | None = None
    # The answer says the endpoint itself is down (a 5xx, a timeout, no connection), not
    # that this one message was refused or throttled: delivery backs off the whole endpoint.
    endpoint_down: bool = False


SUCCESS = frozenset(range(200, 300))
SERVER_ERRORS = frozenset(range(500, 1000))  # and whatever odd code a proxy invents past 599


@dataclass(frozen=True)
class Retrier:
    """A channel's retry rules as data, declared beside it (as Alertmanager's `Retrier`):
    which answers are delivered, which are worth another try, and which of those say the
    endpoint itself is down rather than this one message being throttled. Every other
    answer fails for good: it will not fix itself."""

    sent: frozenset[int]
    retry: frozenset[int]
    down: frozenset[int]  # a subset of `retry`: delivery backs off the whole endpoint

    def verdict(self, code: int) -> Verdict:
        if code in self.sent:
            return Verdict.SENT
        return Verdict.RETRY if code in self.retry else Verdict.FAILED

    def endpoint_down(self, code: int) -> bool:
        return code in self.down


# An HTTP peer's usual rules: 2xx delivered; 408, 429 and 5xx retried; a timeout or a 5xx
# says the endpoint is down, a 429 only that this destination is throttled.
HTTP = Retrier(
    sent=SUCCESS,
    retry=frozenset({408, 429}) | SERVER_ERRORS,
    down=frozenset({408}) | SERVER_ERRORS,
)


def retry_after(header: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or odd."""
    if header is None:
        return None
    try:
        seconds = float(header.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


@dataclass(frozen=True)
class Limits:
    """A channel's own delivery settings, so one peer's pace never sets another's."""

    rate_per_min: int  # per destination (a PagerDuty key, a Slack webhook); 0: no budget
    timeout_s: float  # one attempt, connection included
    concurrency: int  # sends in flight at once


def configured(settings: Settings, kind: str, declared: Limits) -> Limits:
    """A channel's limits: what its module declares, with RBTK_CHANNEL_LIMITS over them."""
    override = settings.channel_limits.get(kind)
    if override is None:
        return declared
    return Limits(
        rate_per_min=declared.rate_per_min
        if override.rate_per_min is None
        else override.rate_per_min,
        timeout_s=declared.timeout_s if override.timeout_s is None else override.timeout_s,
        concurrency=declared.concurrency if override.concurrency is None else override.concurrency,
    )


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


Classifier = Callable[[int, Mapping[str, str], bytes], Result]


@dataclass(frozen=True)
class Delivery:
    """One outbox row as a channel sends it: the secret is decrypted only for the send."""

    body: dict[str, Any]
    endpoint: str
    secret: Secret | None


class Io(Protocol):
    """What the delivery worker lends a channel to send with."""

    @property
    def settings(self) -> Settings: ...

    async def post(self, request: Request, classify: Classifier, peer: str) -> Result: ...

    def blocking(self, call: Callable[[], T]) -> Awaitable[T]:
        """Run a blocking call in the channel's own bounded pool."""
        ...


class Channel(Protocol):
    kind: str  # the outbox's `channel` value
    # Whether the outbox's `endpoint` holds only the kind because the address is the secret
    # (a Slack webhook URL): outages are then told apart by each destination's fingerprint.
    # A channel whose `endpoint` is the address itself (a webhook's URL, the Events API URL,
    # the one SMTP server) is down for every row bound there at once.
    address_is_secret: bool

    def limits(self, settings: Settings) -> Limits: ...

    async def send(self, delivery: Delivery, io: Io) -> Result: ...


class InvalidDestination(ValueError):
    """A destination a channel cannot send to; the message says what to fix, and `field` is
    the `Field` it is about (its name), for a form to highlight."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Field:
    """One setting of a chat channel's destination, as the API, CLI and forms take it."""

    name: str  # the API's key, the form's field, the CLI's --option
    label: str
    help: str
    # The JSON Schema of its value: what `validate` checks that a schema can state, so the
    # API's document says it (a host's addresses only `validate` can check).
    schema: Mapping[str, Any] = field(hash=False)
    secret: bool = False  # stored encrypted, shown masked, never echoed
    many: bool = False  # a list of values (email recipients)


@dataclass(frozen=True)
class Destination:
    """A checked destination: its one secret (encrypted at rest), the rest in the clear."""

    secret: Secret | None
    config: dict[str, Any]
    endpoint: str  # what the delivery log shows as where it went; never a secret


@dataclass(frozen=True)
class Endpoint:
    """Where rows go, as one thing that is up or down (rbtk.delivery.outages): a PagerDuty
    Events API URL, one Slack webhook, the SMTP server."""

    channel: str
    address: str  # the URL, or the channel kind when the URL is a secret (see `scope`)
    scope: str = ""  # what tells apart endpoints whose address is not stored in clear


class ChatChannel(Channel, Protocol):
    label: str  # "Slack"
    summary: str  # "incoming webhook"
    fields: tuple[Field, ...]
    # Whether a burst of messages goes out as one digest a minute (rbtk.outbox.chat.digests):
    # where a person reads each message, not a program.
    digests: bool

    def validate(self, values: Mapping[str, Any], *, allow_private: bool) -> Destination: ...

    def describe(self, config: Mapping[str, Any], secret_masked: str | None) -> str:
        """Where it sends, as a person reads it; a secret only ever masked."""
        ...

    def render(self, message: Message, config: Mapping[str, Any]) -> dict[str, Any]: ...

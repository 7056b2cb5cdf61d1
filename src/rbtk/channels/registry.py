"""Every channel rbtk can deliver through, listed once; nothing else names channel kinds.

Adding a chat channel is one module with the `ChatChannel` attributes and one line in
`CHAT`; the API, the CLI, the settings pages and delivery all read their fields from it.
"""

from rbtk.channels import email, pagerduty, slack, webhook
from rbtk.channels.base import Channel, ChatChannel
from rbtk.runtime.settings import Settings

CHAT: dict[str, ChatChannel] = {
    slack.kind: slack,
    email.kind: email,
    webhook.kind: webhook,
}
CHANNELS: dict[str, Channel] = {pagerduty.kind: pagerduty, **CHAT}


class UnknownChannelKind(LookupError):
    def __init__(self, kind: str) -> None:
        known = ", ".join(sorted(CHANNELS))
        super().__init__(f"unknown channel kind {kind!r}: rbtk knows {known}")


def channel(kind: str) -> Channel:
    try:
        return CHANNELS[kind]
    except KeyError:
        raise UnknownChannelKind(kind) from None


def chat(kind: str) -> ChatChannel:
    try:
        return CHAT[kind]
    except KeyError:
        raise UnknownChannelKind(kind) from None


def slowest(settings: Settings) -> tuple[str, float]:
    """The channel whose one attempt may take longest, and how long: what a lease covers."""
    return max(
        ((kind, c.limits(settings).timeout_s) for kind, c in CHANNELS.items()),
        key=lambda pair: pair[1],
    )


def check_lease(settings: Settings) -> None:
    """ValueError unless a delivery lease covers the slowest channel's request. Renewed every
    fifth of a lease, a lease never has less than ~4/5 of itself left; a row is sent only while
    that covers a whole request of its channel (rbtk.delivery.worker)."""
    kind, timeout_s = slowest(settings)
    if settings.delivery_lease_s < 1.5 * timeout_s:
        raise ValueError(
            f"RBTK_DELIVERY_LEASE_S must be at least 1.5 times the slowest channel's "
            f"timeout ({kind}: {timeout_s:g} s): a lease that can run out during a request "
            "lets another instance send the same row again"
        )


def drain_s(settings: Settings) -> float:
    """How long stopping waits for the sends in flight to finish and be recorded: the slowest
    channel's one attempt, and 5 s to record the answers."""
    return slowest(settings)[1] + 5


def rates(settings: Settings) -> dict[str, int]:
    """Each channel's budget per destination per minute (0: none), by kind."""
    return {kind: c.limits(settings).rate_per_min for kind, c in CHANNELS.items()}

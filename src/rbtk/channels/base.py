"""What a channel's response means for delivery: the one place that knows status codes."""

from dataclasses import dataclass
from enum import StrEnum


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


def retry_after(header: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or odd."""
    if header is None:
        return None
    try:
        seconds = float(header.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None

"""Who may call the REST API, and how often: tokens, then the injected and the real rate limit.

Each REST request is checked in this order, answering PagerDuty's documented error bodies
(tests/data/pagerduty-rest-v2-subset.json, "errors"):

    no `Authorization: Token token=<token>`, or an unknown token
        401 {"error": {"message": "Authentication failed", "code": 2006}}
    a token listed in `forbidden_tokens`
        403 {"error": {"message": "Access Denied", "code": 2010}}
    `throttle_next` (the next N authenticated requests), then `rate_limit` per token per
    rolling minute
        429 {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
        with ratelimit-limit, ratelimit-remaining: 0 and ratelimit-reset (seconds); no
        Retry-After, as PagerDuty's REST API sends none

While `rate_limit` is on, every answer to a known token carries the three ratelimit-* headers.
"""

import math
import re
from dataclasses import dataclass, field
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from rbtk.emulator.ratelimit import SlidingWindowLimiter

Count = Annotated[StrictInt, Field(ge=0)]
# What PagerDuty allows an account API key (REST API Rate Limits); shown while limiting is off.
PAGERDUTY_LIMIT_PER_MIN: Final = 960
_TOKEN_HEADER = re.compile(r"Token token=(\S+)")

Refusal = Literal["unauthorized", "forbidden", "injected_throttle", "rate_limited"]


def rest_error(message: str, code: int, errors: list[str] | None = None) -> dict[str, object]:
    """PagerDuty's REST error body; `errors` only when there are details to give."""
    error: dict[str, object] = {"message": message, "code": code}
    if errors:
        error["errors"] = errors
    return {"error": error}


class RestSettings(BaseModel):
    """The `/_control/rest` document.

    `tokens` and `read_only_tokens` are both valid for every REST route (all are GETs);
    `forbidden_tokens` authenticate but are refused 403. `rate_limit` is requests per token
    per rolling minute, 0 off. `throttle_next` answers the next N authenticated requests 429,
    with `ratelimit-reset: throttle_reset_s`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tokens: tuple[str, ...] = ()
    read_only_tokens: tuple[str, ...] = ()
    forbidden_tokens: tuple[str, ...] = ()
    rate_limit: Count = 0
    throttle_next: Count = 0
    throttle_reset_s: Count = 1


@dataclass(frozen=True)
class Verdict:
    """Admitted when `refusal` is None; `headers` go on the answer either way."""

    refusal: Refusal | None
    status: int = 200
    body: dict[str, object] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def token_of(authorization: str | None) -> str | None:
    """The token of a header in PagerDuty's exact format; None for anything else."""
    match = _TOKEN_HEADER.fullmatch((authorization or "").strip())
    return None if match is None else match.group(1)


class RestAccess:
    def __init__(self, settings: RestSettings) -> None:
        self.configure(settings)

    def configure(self, settings: RestSettings) -> None:
        self._settings = settings
        self._remaining_throttles = settings.throttle_next
        self._limiter = SlidingWindowLimiter(limit=settings.rate_limit, window_s=60.0)

    @property
    def current(self) -> RestSettings:
        return self._settings.model_copy(update={"throttle_next": self._remaining_throttles})

    def decide(self, token: str | None) -> Verdict:
        settings = self._settings
        if token is None or token not in (
            *settings.tokens,
            *settings.read_only_tokens,
            *settings.forbidden_tokens,
        ):
            return Verdict("unauthorized", 401, rest_error("Authentication failed", 2006))
        if token in settings.forbidden_tokens:
            return Verdict("forbidden", 403, rest_error("Access Denied", 2010))
        limit = settings.rate_limit or PAGERDUTY_LIMIT_PER_MIN
        if self._remaining_throttles:
            self._remaining_throttles -= 1
            return self._throttled("injected_throttle", limit, settings.throttle_reset_s)
        if not settings.rate_limit:
            return Verdict(None)
        if not self._limiter.admit(token):
            return self._throttled(
                "rate_limited", limit, max(math.ceil(self._limiter.reset_s(token)), 1)
            )
        return Verdict(None, headers=self._headers(token))

    def _headers(self, token: str) -> dict[str, str]:
        return {
            "ratelimit-limit": str(self._settings.rate_limit),
            "ratelimit-remaining": str(self._limiter.remaining(token)),
            "ratelimit-reset": str(math.ceil(self._limiter.reset_s(token))),
        }

    @staticmethod
    def _throttled(refusal: Refusal, limit: int, reset_s: int) -> Verdict:
        headers = {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(reset_s),
        }
        return Verdict(refusal, 429, rest_error("Rate Limit Exceeded", 2020), headers)

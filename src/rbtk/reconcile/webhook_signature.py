"""PagerDuty's webhook signature: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`, an
HMAC-SHA256 of the raw body keyed with the subscription's secret, one value per secret while
PagerDuty rotates it. Any value matching any secret rbtk holds is authentic.

Every value is compared with every secret, in constant time and without stopping at the
first match, so how long a refusal takes says nothing about how close a forgery came.
"""

import hashlib
import hmac
from collections.abc import Iterable

from rbtk.runtime.secrets import Secret

VERSION = "v1="
MAX_VALUES = 16  # more than any rotation needs: a header of thousands is not worth hashing


def signed_with(body: bytes, secret: Secret) -> str:
    """The v1 value a delivery of `body` signed with `secret` carries."""
    return hmac.new(secret.reveal().encode(), body, hashlib.sha256).hexdigest()


def authentic(body: bytes, header: str | None, secrets: Iterable[Secret]) -> bool:
    """Whether the header carries a v1 signature of the body made with one of the secrets."""
    if not header:
        return False
    given = [
        part.strip()[len(VERSION) :].lower()
        for part in header.split(",", MAX_VALUES)[:MAX_VALUES]
        if part.strip().startswith(VERSION)
    ]
    matched = False
    for secret in secrets:
        expected = signed_with(body, secret)
        for value in given:
            matched |= hmac.compare_digest(expected.encode(), value.encode("ascii", "replace"))
    return matched

"""Deterministic dedup keys (the README's "What pages"), capped at PagerDuty's 255 characters.

Every key is injective: two different conditions never share one. Components are joined
with `:`; a `:` or `%` inside any component but the last is percent-encoded (`%3A`, `%25`),
so `x`/`y:z` and `x:y`/`z` stay apart while ordinary keys keep the documented form (the
last component, often a pytest id such as `nav/test_lidar.py::test_scan`, is kept as is:
it is unambiguous once every earlier component is colon-free).
"""

import hashlib
import re

MAX_DEDUP_KEY = 255
_HASH_CHARS = 16
_CAPPED = re.compile(rf"~[0-9a-f]{{{_HASH_CHARS}}}\Z")


def cap(key: str) -> str:
    """Keep a key within PagerDuty's limit: a readable prefix plus a stable hash of the whole.

    The hash covers the full key, so two long keys sharing a prefix still differ. Capping
    a capped key changes nothing.
    """
    if len(key) <= MAX_DEDUP_KEY:
        return key
    return _hashed(key)


def _hashed(key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:_HASH_CHARS]
    return f"{key[: MAX_DEDUP_KEY - _HASH_CHARS - 1]}~{digest}"


def _key(kind: str, *components: str) -> str:
    *inner, last = components
    escaped = [c.replace("%", "%25").replace(":", "%3A") for c in inner]
    key = ":".join(["rbtk", kind, *escaped, last])
    if len(key) == MAX_DEDUP_KEY and _CAPPED.search(key):
        # Shaped like the capped form of a longer key: hash it, so it cannot pass for one.
        return _hashed(key)
    return cap(key)


def pool_offline(project_slug: str, pool_name: str) -> str:
    return _key("pool-offline", project_slug, pool_name)


def evidence_fail(project_slug: str, release_tag: str) -> str:
    return _key("evidence-fail", project_slug, release_tag)


def postrelease_fail(project_slug: str, branch: str, test_id: str) -> str:
    return _key("postrelease-fail", project_slug, branch, test_id)


def standard_amendment(project_slug: str, standard: str, amendment: str) -> str:
    return _key("standard-amendment", project_slug, standard, amendment)


TEST_PREFIX = "rbtk:test:"  # every test event's key starts so


def test_event(connector: str, unique: str) -> str:
    return _key("test", connector, unique)


def storm(connector: str, start: str) -> str:
    """A storm's umbrella incident (rbtk.outbox.storms): not a condition of the policy."""
    return _key("storm", connector, start)


def release_change(project_slug: str, branch: str, tag: str) -> str:
    """A release's change event: never sent as a dedup key (change events have none), it
    names the delivery log's lane for it."""
    return _key("change", project_slug, branch, tag)

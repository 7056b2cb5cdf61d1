"""Deterministic dedup keys (PRODUCT.md §3), capped at PagerDuty's 255 characters."""

import hashlib

MAX_DEDUP_KEY = 255
_HASH_CHARS = 16


def cap(key: str) -> str:
    """Keep a key within PagerDuty's limit: a readable prefix plus a stable hash of the whole.

    The hash covers the full key, so two long keys sharing a prefix still differ.
    """
    if len(key) <= MAX_DEDUP_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:_HASH_CHARS]
    return f"{key[: MAX_DEDUP_KEY - _HASH_CHARS - 1]}~{digest}"


def pool_offline(project_slug: str, pool_name: str) -> str:
    return cap(f"rbtk:pool-offline:{project_slug}:{pool_name}")


def evidence_fail(project_slug: str, release_tag: str) -> str:
    return cap(f"rbtk:evidence-fail:{project_slug}:{release_tag}")


def postrelease_fail(project_slug: str, branch: str, test_id: str) -> str:
    return cap(f"rbtk:postrelease-fail:{project_slug}:{branch}:{test_id}")


def standard_amendment(project_slug: str, standard: str, amendment: str) -> str:
    return cap(f"rbtk:standard-amendment:{project_slug}:{standard}:{amendment}")


def test_event(connector: str, unique: str) -> str:
    return cap(f"rbtk:test:{connector}:{unique}")

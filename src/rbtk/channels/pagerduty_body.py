"""PagerDuty Events API v2 request bodies, exactly as PagerDuty documents them.

PagerDuty's limits are met by truncating, never by failing: a page that cannot be sent
because a detail was too long would be the worst outcome of all.
"""

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from rbtk.policy.keys import cap
from rbtk.policy.rules import Rule
from rbtk.policy.state import Kind, Notification
from rbtk.runtime.timefmt import format_rfc3339

MAX_SUMMARY = 1024
MAX_BODY_BYTES = 512_000
MAX_LINK_HREF = 2048
CLIENT = "Roboticks"
TRUNCATED = "_truncated"
_ELLIPSIS = "…"

Body = dict[str, Any]

# component, group, class per kind of condition
_CLASSIFICATION: Mapping[Kind, tuple[str, str, str]] = {
    Kind.POOL_OFFLINE: ("runner-pool", "platform", "runner_pool_offline"),
    Kind.EVIDENCE_FAIL: ("evidence-pack", "compliance", "evidence_pack_failed"),
    Kind.POSTRELEASE_FAIL: ("test-run", "ci", "post_release_regression"),
    Kind.STANDARD_AMENDMENT: ("standard", "compliance", "standard_amendment"),
    Kind.TEST: ("rbtk", "rbtk", "test_event"),
    Kind.STORM: ("rbtk", "platform", "storm"),
}


def encode(body: Body) -> bytes:
    """The exact bytes sent, so the size checked is the size PagerDuty receives."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def trigger_body(
    notification: Notification,
    routing_key: str,
    *,
    base_url: str,
    runbooks: Mapping[Rule, str] | None = None,
) -> Body:
    """`runbooks`: each rule's runbook URL; the notification's rule's is added to its links
    (an umbrella or a test event has no rule, so none)."""
    component, group, event_class = _CLASSIFICATION[notification.kind]
    links = _links(notification, base_url)
    runbook = None if notification.rule is None else (runbooks or {}).get(notification.rule)
    if runbook is not None:
        links.append({"href": runbook, "text": f"Runbook: {notification.rule}"})
    body: Body = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": cap(notification.dedup_key),
        "payload": {
            "summary": _truncate(notification.summary, MAX_SUMMARY),
            "severity": notification.severity.value,
            # A storm spans projects: its source is the platform itself.
            "source": "/".join(filter(None, ["roboticks", notification.project_slug])),
            "component": component,
            "group": group,
            "class": event_class,
            "custom_details": dict(notification.details),
            "timestamp": format_rfc3339(notification.at),
        },
        "links": [link for link in links if len(link["href"]) <= MAX_LINK_HREF],
        "client": CLIENT,
        "client_url": base_url,
    }
    return _fit(body)


def resolve_body(dedup_key: str, routing_key: str) -> Body:
    return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": cap(dedup_key)}


def _links(notification: Notification, base_url: str) -> list[dict[str, str]]:
    details, project = notification.details, _segment(notification.project_slug)
    root = f"{base_url.rstrip('/')}/r/{project}"
    match notification.kind:
        case Kind.POOL_OFFLINE:
            href = f"{root}/pools/{_segment(details['pool_name'])}"
            return [{"href": href, "text": "View pool in Roboticks"}]
        case Kind.EVIDENCE_FAIL:
            href = f"{root}/releases/{_segment(details['release_tag'])}"
            return [{"href": href, "text": "View release in Roboticks"}]
        case Kind.POSTRELEASE_FAIL:
            href = f"{root}/runs/{_segment(str(details['run_id']))}"
            return [{"href": href, "text": "View test run in Roboticks"}]
        case Kind.STANDARD_AMENDMENT if details.get("url"):
            return [{"href": str(details["url"]), "text": "Read the amendment"}]
        case Kind.STORM if details.get("members_page"):
            return [{"href": str(details["members_page"]), "text": "Every member, in rbtk"}]
    return []


def _segment(value: str) -> str:
    return quote(value, safe="")


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def _fit(body: Body) -> Body:
    """Shrink custom_details until the body is within PagerDuty's size limit."""
    if len(encode(body)) <= MAX_BODY_BYTES:
        return body
    payload = body["payload"]
    original = payload["custom_details"]
    limit = 16_384
    while limit >= 64:
        payload["custom_details"] = {**_shorten(original, limit), TRUNCATED: True}
        if len(encode(body)) <= MAX_BODY_BYTES:
            return body
        limit //= 4
    payload["custom_details"] = {TRUNCATED: "details dropped: over PagerDuty's size limit"}
    return body


def _shorten(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return _truncate(value, limit)
    if isinstance(value, Mapping):
        items = list(value.items())[:limit]
        return {_truncate(str(k), 256): _shorten(v, limit) for k, v in items}
    if isinstance(value, list | tuple):
        return [_shorten(v, limit) for v in value[:limit]]
    return value

"""PagerDuty's checks on an Events API v2 event: a parsed body in, PagerDuty's error strings out.

The routing_key length, severity and "missing or blank" strings are PagerDuty's documented ones;
the others follow the same wording because PagerDuty does not publish them.
"""

from collections.abc import Mapping
from typing import Final

MAX_EVENT_BYTES: Final = 512_000
ROUTING_KEY_LENGTH: Final = 32
MAX_DEDUP_KEY_LENGTH: Final = 255
MAX_SUMMARY_LENGTH: Final = 1024
EVENT_ACTIONS: Final = ("trigger", "acknowledge", "resolve")
SEVERITIES: Final = ("critical", "warning", "error", "info")

ROUTING_KEY_LENGTH_ERROR: Final = (
    f"Length of 'routing_key' is incorrect (should be {ROUTING_KEY_LENGTH} characters)"
)
EVENT_ACTION_INVALID: Final = (
    "'event_action' is invalid (must be one of the following: "
    "'trigger', 'acknowledge' or 'resolve')"
)
SEVERITY_INVALID: Final = (
    "'payload.severity' is invalid (must be one of the following: "
    "'critical', 'warning', 'error' or 'info')"
)
DEDUP_KEY_TOO_LONG: Final = (
    f"Length of 'dedup_key' is incorrect (should be at most {MAX_DEDUP_KEY_LENGTH} characters)"
)
SUMMARY_TOO_LONG: Final = (
    f"Length of 'payload.summary' is incorrect (should be at most {MAX_SUMMARY_LENGTH} characters)"
)
EVENT_TOO_LARGE: Final = f"Event object is too large (should be at most {MAX_EVENT_BYTES} bytes)"
NOT_JSON: Final = "Event object is not valid JSON"
NOT_AN_OBJECT: Final = "Event object is invalid (must be a JSON object)"
PAYLOAD_NOT_AN_OBJECT: Final = "'payload' is invalid (must be an object)"


def missing(field: str) -> str:
    return f"'{field}' is missing or blank"


def not_a_string(field: str) -> str:
    return f"'{field}' is invalid (must be a string)"


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def change_event_errors(event: object) -> list[str]:
    """Every reason PagerDuty would refuse a change event (`POST /v2/change/enqueue`): a
    routing key and a payload with a summary; `source` and `custom_details`, when given,
    of their types; `links`, when given, a list."""
    if not isinstance(event, Mapping):
        return [NOT_AN_OBJECT]
    errors = _routing_key_errors(event.get("routing_key"))
    payload = event.get("payload")
    if payload is None:
        return [*errors, missing("payload")]
    if not isinstance(payload, Mapping):
        return [*errors, PAYLOAD_NOT_AN_OBJECT]
    errors += _text_errors(payload.get("summary"), "payload.summary")
    summary = payload.get("summary")
    if isinstance(summary, str) and len(summary) > MAX_SUMMARY_LENGTH:
        errors.append(SUMMARY_TOO_LONG)
    if payload.get("source") is not None and not isinstance(payload.get("source"), str):
        errors.append(not_a_string("payload.source"))
    details = payload.get("custom_details")
    if details is not None and not isinstance(details, Mapping):
        errors.append("'payload.custom_details' is invalid (must be an object)")
    if event.get("links") is not None and not isinstance(event.get("links"), list):
        errors.append("'links' is invalid (must be an array)")
    return errors


def event_errors(event: object) -> list[str]:
    """Every reason PagerDuty would refuse `event`, in field order; empty when it is valid."""
    if not isinstance(event, Mapping):
        return [NOT_AN_OBJECT]
    action = event.get("event_action")
    errors = _routing_key_errors(event.get("routing_key"))
    errors += _event_action_errors(action)
    errors += _dedup_key_errors(
        event.get("dedup_key"), required=action in ("acknowledge", "resolve")
    )
    if action == "trigger":
        errors += _payload_errors(event.get("payload"))
    return errors


def _routing_key_errors(value: object) -> list[str]:
    if is_blank(value):
        return [missing("routing_key")]
    if not isinstance(value, str):
        return [not_a_string("routing_key")]
    return [] if len(value) == ROUTING_KEY_LENGTH else [ROUTING_KEY_LENGTH_ERROR]


def _event_action_errors(value: object) -> list[str]:
    if is_blank(value):
        return [missing("event_action")]
    return [] if value in EVENT_ACTIONS else [EVENT_ACTION_INVALID]


def _dedup_key_errors(value: object, *, required: bool) -> list[str]:
    if is_blank(value):
        return [missing("dedup_key")] if required else []
    if not isinstance(value, str):
        return [not_a_string("dedup_key")]
    return [DEDUP_KEY_TOO_LONG] if len(value) > MAX_DEDUP_KEY_LENGTH else []


def _payload_errors(payload: object) -> list[str]:
    if payload is None:
        return [missing("payload")]
    if not isinstance(payload, Mapping):
        return [PAYLOAD_NOT_AN_OBJECT]
    errors = _text_errors(payload.get("summary"), "payload.summary")
    summary = payload.get("summary")
    if isinstance(summary, str) and len(summary) > MAX_SUMMARY_LENGTH:
        errors.append(SUMMARY_TOO_LONG)
    errors += _text_errors(payload.get("source"), "payload.source")
    severity = payload.get("severity")
    if is_blank(severity):
        errors.append(missing("payload.severity"))
    elif severity not in SEVERITIES:
        errors.append(SEVERITY_INVALID)
    return errors


def _text_errors(value: object, field: str) -> list[str]:
    if is_blank(value):
        return [missing(field)]
    return [] if isinstance(value, str) else [not_a_string(field)]

"""`POST /v2/enqueue` as PagerDuty answers it: size, JSON, validation, rate limit, then alerts."""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from rbtk.emulator.state import EmulatorState, RequestOutcome
from rbtk.emulator.validation import (
    EVENT_TOO_LARGE,
    MAX_EVENT_BYTES,
    NOT_JSON,
    change_event_errors,
    event_errors,
)

THROTTLE_BODY: Final[dict[str, object]] = {
    "status": "throttle exceeded",
    "message": "Requests for this service are arriving too quickly.  Please retry later.",
}
# PagerDuty documents no 5xx body; this one says plainly where it came from.
INJECTED_ERROR_BODY: Final[dict[str, object]] = {
    "status": "internal error",
    "message": "Injected by the emulator's error_rate fault.",
}
INJECTED_REJECT_BODY: Final[dict[str, object]] = {
    "status": "invalid event",
    "message": "Event object is invalid",
    "errors": ["Injected by the emulator's reject_next fault."],
}


@dataclass(frozen=True)
class EventsResponse:
    status: int
    body: dict[str, object]
    headers: dict[str, str] = field(default_factory=dict)


def invalid_event(errors: list[str]) -> EventsResponse:
    return EventsResponse(
        400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    )


def throttled(retry_after: int | None = None) -> EventsResponse:
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return EventsResponse(429, dict(THROTTLE_BODY), headers)


def handle_enqueue(state: EmulatorState, raw: bytes, *, path: str) -> EventsResponse:
    """Answer one Events API request and record it, whatever the answer."""
    return _handle(state, raw, path, event_errors, _accept_event)


def handle_change(state: EmulatorState, raw: bytes, *, path: str) -> EventsResponse:
    """Answer one Change Events API request (`/v2/change/enqueue`): recorded, never an alert."""
    return _handle(state, raw, path, change_event_errors, _accept_change)


def parse_json(raw: bytes) -> object:
    """The JSON value in `raw` for the request log; None when it is not JSON."""
    try:
        value: object = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value


def _handle(
    state: EmulatorState,
    raw: bytes,
    path: str,
    errors_of: Callable[[object], list[str]],
    accept: Callable[[EmulatorState, dict[str, Any]], EventsResponse],
) -> EventsResponse:
    """Both APIs check alike: size, JSON, PagerDuty's validation, the rate limit; then
    `accept` answers for a valid, admitted body. Every request is recorded."""
    answer, outcome, body = _answer(state, raw, errors_of, accept)
    state.record_request(path=path, status=answer.status, outcome=outcome, body=body)
    return answer


def _answer(
    state: EmulatorState,
    raw: bytes,
    errors_of: Callable[[object], list[str]],
    accept: Callable[[EmulatorState, dict[str, Any]], EventsResponse],
) -> tuple[EventsResponse, RequestOutcome, object]:
    if len(raw) > MAX_EVENT_BYTES:
        return invalid_event([EVENT_TOO_LARGE]), "invalid", None
    try:
        body: object = json.loads(raw)
    except (ValueError, RecursionError):
        return invalid_event([NOT_JSON]), "invalid", None
    errors = errors_of(body)
    if errors or not isinstance(body, dict):
        return invalid_event(errors), "invalid", body
    if not state.admit(body["routing_key"]):
        return throttled(), "throttled", body
    return accept(state, body), "accepted", body


def _accept_event(state: EmulatorState, body: dict[str, Any]) -> EventsResponse:
    event = state.accept(body, dedup_key=_dedup_key(body))
    success: dict[str, object] = {
        "status": "success",
        "message": "Event processed",
        "dedup_key": event.dedup_key,
    }
    return EventsResponse(202, success)


def _accept_change(state: EmulatorState, body: dict[str, Any]) -> EventsResponse:
    state.accept_change(body)
    return EventsResponse(202, {"status": "success", "message": "Change event processed"})


def _dedup_key(body: dict[str, Any]) -> str:
    given = body.get("dedup_key")
    if isinstance(given, str) and given.strip():
        return given
    return uuid.uuid4().hex

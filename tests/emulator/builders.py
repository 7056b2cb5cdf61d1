"""Events as a client would send them, valid unless a test says otherwise."""

from typing import Any

ROUTING_KEY = "0123456789abcdef0123456789abcdef"
OTHER_ROUTING_KEY = "fedcba9876543210fedcba9876543210"

THROTTLE_BODY = {
    "status": "throttle exceeded",
    "message": "Requests for this service are arriving too quickly.  Please retry later.",
}


def trigger(
    dedup_key: str | None = None,
    *,
    routing_key: str = ROUTING_KEY,
    summary: str = "Runner pool eu-1 is offline",
    severity: str = "critical",
    source: str = "runner-pool/eu-1",
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "payload": {"summary": summary, "source": source, "severity": severity},
    }
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    return event


def acknowledge(dedup_key: str, *, routing_key: str = ROUTING_KEY) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": "acknowledge", "dedup_key": dedup_key}


def resolve(dedup_key: str, *, routing_key: str = ROUTING_KEY) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}


def invalid(*errors: str) -> dict[str, Any]:
    return {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)}


def processed(dedup_key: str) -> dict[str, Any]:
    return {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


TOKEN = "y_NbAkKc66ryYTWUXYEu"
NOT_FOUND = {"error": {"message": "Not Found", "code": 2100}}


def service(name: str = "Runners", *keys: str, **settings: Any) -> dict[str, Any]:
    """A `PUT /_control/services/{id}` body."""
    return {"name": name, "integration_keys": list(keys), **settings}

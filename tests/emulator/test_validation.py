import json
import re
from typing import Any

import httpx
import pytest

from tests.emulator.builders import ROUTING_KEY, acknowledge, invalid, processed, resolve, trigger

SEVERITY_INVALID = (
    "'payload.severity' is invalid (must be one of the following: "
    "'critical', 'warning', 'error' or 'info')"
)
EVENT_ACTION_INVALID = (
    "'event_action' is invalid (must be one of the following: "
    "'trigger', 'acknowledge' or 'resolve')"
)


def without(event: dict[str, Any], field: str) -> dict[str, Any]:
    if field.startswith("payload."):
        payload = {k: v for k, v in event["payload"].items() if k != field.removeprefix("payload.")}
        return {**event, "payload": payload}
    return {k: v for k, v in event.items() if k != field}


def test_it_accepts_a_trigger_and_answers_with_its_dedup_key(pd: httpx.Client) -> None:
    response = pd.post("/v2/enqueue", json=trigger("pool-eu-1"))

    assert response.status_code == 202
    assert response.json() == processed("pool-eu-1")


def test_it_generates_a_hex_dedup_key_for_a_trigger_without_one(pd: httpx.Client) -> None:
    response = pd.post("/v2/enqueue", json=trigger())

    dedup_key = response.json()["dedup_key"]
    assert response.status_code == 202
    assert re.fullmatch(r"[0-9a-f]{32}", dedup_key)
    assert response.json() == processed(dedup_key)


def test_it_accepts_events_on_the_unversioned_path_too(pd: httpx.Client) -> None:
    response = pd.post("/enqueue", json=trigger("pool-eu-1"))

    assert response.status_code == 202
    assert response.json() == processed("pool-eu-1")


def test_it_refuses_a_routing_key_that_is_not_32_characters(pd: httpx.Client) -> None:
    response = pd.post("/v2/enqueue", json=trigger(routing_key="y_NbAkKc66ryYTWUXYEu"))

    assert response.status_code == 400
    assert response.json() == invalid(
        "Length of 'routing_key' is incorrect (should be 32 characters)"
    )


@pytest.mark.parametrize(
    ("field", "error"),
    [
        ("routing_key", "'routing_key' is missing or blank"),
        ("event_action", "'event_action' is missing or blank"),
        ("payload", "'payload' is missing or blank"),
        ("payload.summary", "'payload.summary' is missing or blank"),
        ("payload.source", "'payload.source' is missing or blank"),
        ("payload.severity", "'payload.severity' is missing or blank"),
    ],
)
def test_it_names_each_missing_field_of_a_trigger(pd: httpx.Client, field: str, error: str) -> None:
    response = pd.post("/v2/enqueue", json=without(trigger(), field))

    assert response.status_code == 400
    assert response.json() == invalid(error)


def test_it_treats_a_blank_summary_as_missing(pd: httpx.Client) -> None:
    response = pd.post("/v2/enqueue", json=trigger(summary="  "))

    assert response.json() == invalid("'payload.summary' is missing or blank")


def test_it_refuses_an_unknown_event_action(pd: httpx.Client) -> None:
    response = pd.post("/v2/enqueue", json={**trigger(), "event_action": "escalate"})

    assert response.status_code == 400
    assert response.json() == invalid(EVENT_ACTION_INVALID)


def test_it_refuses_an_unknown_severity(pd: httpx.Client) -> None:
    response = pd.post("/v2/enqueue", json=trigger(severity="fatal"))

    assert response.status_code == 400
    assert response.json() == invalid(SEVERITY_INVALID)


def test_it_refuses_a_summary_over_1024_characters_and_accepts_1024(pd: httpx.Client) -> None:
    too_long = pd.post("/v2/enqueue", json=trigger(summary="x" * 1025))
    longest = pd.post("/v2/enqueue", json=trigger(summary="x" * 1024))

    assert too_long.status_code == 400
    assert too_long.json() == invalid(
        "Length of 'payload.summary' is incorrect (should be at most 1024 characters)"
    )
    assert longest.status_code == 202


def test_it_refuses_a_dedup_key_over_255_characters_and_accepts_255(pd: httpx.Client) -> None:
    too_long = pd.post("/v2/enqueue", json=trigger("k" * 256))
    longest = pd.post("/v2/enqueue", json=trigger("k" * 255))

    assert too_long.status_code == 400
    assert too_long.json() == invalid(
        "Length of 'dedup_key' is incorrect (should be at most 255 characters)"
    )
    assert longest.json() == processed("k" * 255)


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_it_requires_a_dedup_key_to_acknowledge_or_resolve(pd: httpx.Client, action: str) -> None:
    response = pd.post("/v2/enqueue", json={"routing_key": ROUTING_KEY, "event_action": action})

    assert response.status_code == 400
    assert response.json() == invalid("'dedup_key' is missing or blank")


def test_it_needs_no_payload_to_acknowledge_or_resolve(pd: httpx.Client) -> None:
    acknowledged = pd.post("/v2/enqueue", json=acknowledge("pool-eu-1"))
    resolved = pd.post("/v2/enqueue", json=resolve("pool-eu-1"))

    assert (acknowledged.status_code, acknowledged.json()) == (202, processed("pool-eu-1"))
    assert (resolved.status_code, resolved.json()) == (202, processed("pool-eu-1"))


def test_it_lists_every_error_of_an_event_in_field_order(pd: httpx.Client) -> None:
    event = {
        "routing_key": "short",
        "event_action": "trigger",
        "dedup_key": "k" * 256,
        "payload": {"summary": "", "severity": "fatal"},
    }

    response = pd.post("/v2/enqueue", json=event)

    assert response.json() == invalid(
        "Length of 'routing_key' is incorrect (should be 32 characters)",
        "Length of 'dedup_key' is incorrect (should be at most 255 characters)",
        "'payload.summary' is missing or blank",
        "'payload.source' is missing or blank",
        SEVERITY_INVALID,
    )


def test_it_refuses_a_body_that_is_not_json(pd: httpx.Client) -> None:
    response = pd.post("/v2/enqueue", content=b"routing_key=abc")

    assert response.status_code == 400
    assert response.json() == invalid("Event object is not valid JSON")


def test_it_refuses_json_that_is_not_an_object(pd: httpx.Client) -> None:
    response = pd.post("/v2/enqueue", json=[trigger()])

    assert response.status_code == 400
    assert response.json() == invalid("Event object is invalid (must be a JSON object)")


def test_it_refuses_an_event_over_512000_bytes_and_accepts_one_at_the_limit(
    pd: httpx.Client,
) -> None:
    event = trigger("big")
    event["payload"]["custom_details"] = {"log": ""}
    padding = 512_000 - len(json.dumps(event).encode())
    event["payload"]["custom_details"]["log"] = "x" * padding
    at_limit = json.dumps(event).encode()

    accepted = pd.post("/v2/enqueue", content=at_limit)
    refused = pd.post("/v2/enqueue", content=at_limit + b" ")

    assert len(at_limit) == 512_000
    assert accepted.status_code == 202
    assert refused.status_code == 400
    assert refused.json() == invalid("Event object is too large (should be at most 512000 bytes)")


def test_it_records_no_event_for_a_refused_one(pd: httpx.Client) -> None:
    pd.post("/v2/enqueue", json=trigger(severity="fatal"))

    assert pd.get("/_inspect/events").json() == {"events": []}
    assert pd.get("/_inspect/alerts").json() == {"alerts": []}

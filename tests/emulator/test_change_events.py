"""`POST /v2/change/enqueue` as PagerDuty answers it: recorded with the service's recent
changes, validated like PagerDuty, never an alert."""

from typing import Any

import httpx
import pytest

from tests.emulator.builders import ROUTING_KEY

CHANGE = {
    "routing_key": ROUTING_KEY,
    "payload": {
        "summary": "warehouse v1.4.0 released from main",
        "timestamp": "2026-05-25T03:00:00Z",
        "source": "roboticks",
        "custom_details": {"project": "warehouse", "tag": "v1.4.0"},
    },
    "links": [{"href": "https://roboticks.test/r/warehouse", "text": "In Roboticks"}],
}


def test_a_change_event_is_recorded_and_opens_no_alert(pd: httpx.Client) -> None:
    answer = pd.post("/v2/change/enqueue", json=CHANGE)

    assert (answer.status_code, answer.json()) == (
        202,
        {"status": "success", "message": "Change event processed"},
    )
    [change] = pd.get("/_inspect/changes").json()["changes"]
    assert (change["routing_key"], change["body"]) == (ROUTING_KEY, CHANGE)
    assert pd.get("/_inspect/alerts").json()["alerts"] == []
    assert pd.get("/_inspect/events").json()["events"] == []


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({**CHANGE, "routing_key": "short"},
         ["Length of 'routing_key' is incorrect (should be 32 characters)"]),
        ({"routing_key": ROUTING_KEY}, ["'payload' is missing or blank"]),
        ({**CHANGE, "payload": {"source": "x"}}, ["'payload.summary' is missing or blank"]),
        ({**CHANGE, "payload": {"summary": "x" * 1025}},
         ["Length of 'payload.summary' is incorrect (should be at most 1024 characters)"]),
        ({**CHANGE, "payload": {"summary": "x", "custom_details": "no"}},
         ["'payload.custom_details' is invalid (must be an object)"]),
        ({**CHANGE, "links": "https://x"}, ["'links' is invalid (must be an array)"]),
    ],
)  # fmt: skip
def test_an_invalid_change_event_is_refused_as_pagerduty_refuses_it(
    pd: httpx.Client, change: dict[str, Any], errors: list[str]
) -> None:
    answer = pd.post("/v2/change/enqueue", json=change)

    assert (answer.status_code, answer.json()) == (
        400,
        {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
    )
    assert pd.get("/_inspect/changes").json()["changes"] == []


def test_faults_reach_the_change_api_too(pd: httpx.Client) -> None:
    pd.put("/_control/faults", json={"error_rate": 1.0}).raise_for_status()

    assert pd.post("/v2/change/enqueue", json=CHANGE).status_code == 500

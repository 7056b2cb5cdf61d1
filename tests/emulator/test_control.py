import contextlib

import httpx

from rbtk.emulator import EmulatorConfig, Faults
from tests.emulator.builders import trigger
from tests.emulator.conftest import StartEmulator

NO_FAULTS = {
    "error_rate": 0.0,
    "force_429": False,
    "retry_after": None,
    "latency_ms": 0,
    "drop_connections": 0.0,
    "drop_next": 0,
    "reject_next": 0,
}


def test_it_reports_no_faults_by_default(pd: httpx.Client) -> None:
    response = pd.get("/_control/faults")

    assert (response.status_code, response.json()) == (200, NO_FAULTS)


def test_it_replaces_the_faults_and_answers_with_them(pd: httpx.Client) -> None:
    pd.put("/_control/faults", json={"error_rate": 0.25, "latency_ms": 10})

    response = pd.put("/_control/faults", json={"force_429": 3, "retry_after": 5})

    expected = {**NO_FAULTS, "force_429": 3, "retry_after": 5}
    assert (response.status_code, response.json()) == (200, expected)
    assert pd.get("/_control/faults").json() == expected


def test_it_counts_down_the_faults_left_to_inject(pd: httpx.Client) -> None:
    pd.put("/_control/faults", json={"force_429": 2, "drop_next": 1})

    for _ in range(2):
        with contextlib.suppress(httpx.TransportError):
            pd.post("/v2/enqueue", json=trigger())

    assert pd.get("/_control/faults").json() == {**NO_FAULTS, "force_429": 1}


def test_it_refuses_faults_out_of_range_or_unknown(pd: httpx.Client) -> None:
    out_of_range = pd.put("/_control/faults", json={"error_rate": 1.5})
    unknown = pd.put("/_control/faults", json={"eror_rate": 0.5})

    assert (out_of_range.status_code, unknown.status_code) == (422, 422)
    assert pd.get("/_control/faults").json() == NO_FAULTS


def test_it_forgets_alerts_events_and_requests_on_reset(pd: httpx.Client) -> None:
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))
    pd.post("/v2/enqueue", content=b"not json")

    response = pd.post("/_control/reset")

    assert (response.status_code, response.content) == (204, b"")
    assert pd.get("/_inspect/alerts").json() == {"alerts": []}
    assert pd.get("/_inspect/events").json() == {"events": []}
    assert pd.get("/_inspect/requests").json() == {"requests": []}


def test_it_restores_the_start_up_faults_on_reset(start_emulator: StartEmulator) -> None:
    pd = start_emulator(EmulatorConfig(faults=Faults(latency_ms=5, force_429=1)))
    pd.post("/v2/enqueue", json=trigger())
    pd.put("/_control/faults", json={"error_rate": 1.0})

    pd.post("/_control/reset")

    assert pd.get("/_control/faults").json() == {**NO_FAULTS, "latency_ms": 5, "force_429": 1}


def test_it_lists_every_request_with_the_status_it_answered(pd: httpx.Client) -> None:
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))
    pd.post("/enqueue", json=trigger(severity="fatal"))
    pd.post("/v2/enqueue", content=b"not json")
    pd.put("/_control/faults", json={"force_429": 1})
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))

    requests = pd.get("/_inspect/requests").json()["requests"]

    assert [{k: v for k, v in r.items() if k != "received_at"} for r in requests] == [
        {"path": "/v2/enqueue", "status": 202, "outcome": "accepted", "body": trigger("pool-eu-1")},
        {
            "path": "/enqueue",
            "status": 400,
            "outcome": "invalid",
            "body": trigger(severity="fatal"),
        },
        {"path": "/v2/enqueue", "status": 400, "outcome": "invalid", "body": None},
        {
            "path": "/v2/enqueue",
            "status": 429,
            "outcome": "injected_throttle",
            "body": trigger("pool-eu-1"),
        },
    ]


def test_it_filters_alerts_by_an_unknown_status_with_a_422(pd: httpx.Client) -> None:
    response = pd.get("/_inspect/alerts", params={"status": "closed"})

    assert response.status_code == 422

import time
from typing import Any

import aiohttp
import httpx
import pytest

from rbtk.emulator import EmulatorConfig, Faults
from tests.emulator.builders import THROTTLE_BODY, processed, trigger
from tests.emulator.conftest import StartEmulator

INJECTED_ERROR = {
    "status": "internal error",
    "message": "Injected by the emulator's error_rate fault.",
}


def set_faults(pd: httpx.Client, **faults: Any) -> None:
    pd.put("/_control/faults", json=faults).raise_for_status()


def outcomes(pd: httpx.Client, count: int) -> list[int | str]:
    answers: list[int | str] = []
    for _ in range(count):
        try:
            answers.append(pd.post("/v2/enqueue", json=trigger("pool-eu-1")).status_code)
        except httpx.TransportError:
            answers.append("dropped")
    return answers


def test_it_answers_500_to_the_configured_fraction_repeatably(pd: httpx.Client) -> None:
    set_faults(pd, error_rate=0.5)
    first = outcomes(pd, 20)
    set_faults(pd, error_rate=0.5)
    second = outcomes(pd, 20)

    assert first == second
    assert set(first) == {202, 500}


def test_it_answers_500_with_a_body_saying_the_fault_was_injected(pd: httpx.Client) -> None:
    set_faults(pd, error_rate=1.0)

    response = pd.post("/v2/enqueue", json=trigger())

    assert response.status_code == 500
    assert response.json() == INJECTED_ERROR
    assert pd.get("/_inspect/events").json() == {"events": []}


def test_it_injects_the_start_up_faults_with_the_start_up_seed(
    start_emulator: StartEmulator,
) -> None:
    config = EmulatorConfig(faults=Faults(error_rate=0.5), seed=7)
    first = outcomes(start_emulator(config), 20)
    second = outcomes(start_emulator(config), 20)

    assert first == second
    assert set(first) == {202, 500}


def test_it_forces_429_on_the_next_n_requests_without_retry_after(pd: httpx.Client) -> None:
    set_faults(pd, force_429=2)

    first, second, third = (pd.post("/v2/enqueue", json=trigger("k")) for _ in range(3))

    assert (first.status_code, first.json()) == (429, THROTTLE_BODY)
    assert (second.status_code, second.json()) == (429, THROTTLE_BODY)
    assert "retry-after" not in first.headers
    assert (third.status_code, third.json()) == (202, processed("k"))


def test_it_sends_retry_after_on_forced_429s_when_configured(pd: httpx.Client) -> None:
    set_faults(pd, force_429=1, retry_after=30)

    response = pd.post("/v2/enqueue", json=trigger())

    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.json() == THROTTLE_BODY


def test_it_forces_429_until_cleared_when_set_to_true(pd: httpx.Client) -> None:
    set_faults(pd, force_429=True)
    assert outcomes(pd, 5) == [429] * 5

    set_faults(pd)

    assert outcomes(pd, 1) == [202]


def test_it_delays_each_answer_by_at_least_the_latency(pd: httpx.Client) -> None:
    set_faults(pd, latency_ms=150)

    started = time.perf_counter()
    response = pd.post("/v2/enqueue", json=trigger())
    elapsed = time.perf_counter() - started

    assert response.status_code == 202
    assert elapsed >= 0.15


def test_it_delays_only_the_events_api(pd: httpx.Client) -> None:
    set_faults(pd, latency_ms=2000)

    response = pd.get("/_inspect/events", timeout=1)

    assert response.status_code == 200


def test_it_drops_the_connection_so_httpx_sees_a_transport_error(pd: httpx.Client) -> None:
    set_faults(pd, drop_next=1)

    with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected"):
        pd.post("/v2/enqueue", json=trigger("pool-eu-1"))
    response = pd.post("/v2/enqueue", json=trigger("pool-eu-1"))

    assert (response.status_code, response.json()) == (202, processed("pool-eu-1"))
    requests = pd.get("/_inspect/requests").json()["requests"]
    assert [(r["status"], r["outcome"], r["body"]) for r in requests] == [
        (None, "dropped", trigger("pool-eu-1")),
        (202, "accepted", trigger("pool-eu-1")),
    ]


async def test_it_drops_the_connection_so_aiohttp_sees_a_disconnect(pd: httpx.Client) -> None:
    set_faults(pd, drop_next=1)

    async with aiohttp.ClientSession(base_url=str(pd.base_url)) as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.post("/v2/enqueue", json=trigger())
        async with session.post("/v2/enqueue", json=trigger("k")) as response:
            assert (response.status, await response.json()) == (202, processed("k"))


def test_it_drops_the_configured_fraction_of_connections_repeatably(pd: httpx.Client) -> None:
    set_faults(pd, drop_connections=0.5)
    first = outcomes(pd, 12)
    set_faults(pd, drop_connections=0.5)
    second = outcomes(pd, 12)

    assert first == second
    assert set(first) == {202, "dropped"}


def test_it_refuses_the_next_events_as_invalid_when_asked_to(pd: httpx.Client) -> None:
    set_faults(pd, reject_next=2)

    answers = outcomes(pd, 3)
    rejected = pd.get("/_inspect/requests").json()["requests"][0]

    assert answers == [400, 400, 202]
    assert (rejected["status"], rejected["outcome"]) == (400, "injected_reject")
    assert pd.post("/v2/enqueue", json=trigger()).status_code == 202
    set_faults(pd, reject_next=1)
    assert pd.post("/v2/enqueue", json=trigger()).json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Injected by the emulator's reject_next fault."],
    }

import time

import httpx

from rbtk.emulator import EmulatorConfig
from rbtk.emulator.ratelimit import SlidingWindowLimiter
from tests.emulator.builders import OTHER_ROUTING_KEY, THROTTLE_BODY, trigger
from tests.emulator.conftest import StartEmulator


def statuses(pd: httpx.Client, count: int, routing_key: str | None = None) -> list[int]:
    event = trigger() if routing_key is None else trigger(routing_key=routing_key)
    return [pd.post("/v2/enqueue", json=event).status_code for _ in range(count)]


def test_it_answers_429_once_a_routing_key_is_over_its_budget(
    start_emulator: StartEmulator,
) -> None:
    pd = start_emulator(EmulatorConfig(rate_limit=3))

    assert statuses(pd, 3) == [202, 202, 202]
    throttled = pd.post("/v2/enqueue", json=trigger())

    assert throttled.status_code == 429
    assert throttled.json() == THROTTLE_BODY
    assert "retry-after" not in throttled.headers


def test_it_does_not_record_a_throttled_event_as_accepted(start_emulator: StartEmulator) -> None:
    pd = start_emulator(EmulatorConfig(rate_limit=1))

    statuses(pd, 2)

    requests = pd.get("/_inspect/requests").json()["requests"]
    assert len(pd.get("/_inspect/events").json()["events"]) == 1
    assert [(r["status"], r["outcome"]) for r in requests] == [
        (202, "accepted"),
        (429, "throttled"),
    ]


def test_it_counts_each_routing_key_on_its_own(start_emulator: StartEmulator) -> None:
    pd = start_emulator(EmulatorConfig(rate_limit=2))

    assert statuses(pd, 3) == [202, 202, 429]
    assert statuses(pd, 2, routing_key=OTHER_ROUTING_KEY) == [202, 202]


def test_it_accepts_again_once_the_window_has_rolled_past(start_emulator: StartEmulator) -> None:
    pd = start_emulator(EmulatorConfig(rate_limit=2, rate_window_s=0.5))

    assert statuses(pd, 3) == [202, 202, 429]
    time.sleep(0.55)

    assert statuses(pd, 3) == [202, 202, 429]


def test_it_never_throttles_when_the_limit_is_off(start_emulator: StartEmulator) -> None:
    pd = start_emulator(EmulatorConfig(rate_limit=0))

    assert set(statuses(pd, 130)) == {202}


def test_it_forgets_the_window_on_reset(start_emulator: StartEmulator) -> None:
    pd = start_emulator(EmulatorConfig(rate_limit=1))
    statuses(pd, 2)

    pd.post("/_control/reset")

    assert statuses(pd, 2) == [202, 429]


def test_it_slides_the_window_rather_than_resetting_it_each_minute() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(limit=2, window_s=60, clock=lambda: now[0])

    admitted = []
    for moment in (0.0, 30.0, 59.0, 60.0, 61.0, 89.0, 90.0):
        now[0] = moment
        admitted.append(limiter.admit("key"))

    assert admitted == [True, True, False, True, False, False, True]

"""A fleet-wide outage end to end: `rbtk serve` against the emulator with PagerDuty's rate
limit on, through the CLI as an operator would."""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Emulator, Start
from tests.e2e.processes import RBTK, free_port, rbtk, running
from tests.e2e.test_paging import ago, delivery_log, open_keys, send
from tests.factories import KEY, pool_offline, pool_online
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

POOLS = 2_000
THRESHOLD = 20
UPDATE_S = 5  # how often at most the umbrella is updated (a minute in production)
# Storms on a short clock: PagerDuty's rate limit stays real.
CLOCK = {
    "RBTK_PAGERDUTY_RATE_PER_MIN": "120",
    "RBTK_STORM_UPDATE_S": str(UPDATE_S),
    "RBTK_STORM_CHECK_S": "0.5",
}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """PagerDuty's own limit on: 120 events per routing key per minute, a 429 past it."""
    port = free_port()
    args = [RBTK, "pd-emulator", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running(args, f"{url}/_inspect/events", {}, tmp_path / "emulator.log"):
        yield Emulator(url)


def requests(emulator: Emulator) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{emulator.url}/_inspect/requests").json()["requests"]
    return found


def umbrella(emulator: Emulator) -> list[dict[str, Any]]:
    return [e for e in emulator.events() if e["dedup_key"].startswith("rbtk:storm:pd-production:")]


@pytest.mark.alone
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_thousand_pools_offline_at_once_page_once_and_close_when_they_return(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    pools = [f"pool-{i:04}" for i in range(POOLS)]
    with start(**CLOCK) as service:
        env = {**admin, "RBTK_URL": service.url}
        added = rbtk(
            "admin", "pd", "connectors", "add", "pd-production", "--key", KEY,
            "--storm-window", "10",  # the storm ends 10 s after the pools are back
            env=env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "storm collapse:  on: more than 20 new incidents within 10 s\n" in added.stdout

        started = time.monotonic()
        send(env, *(pool_offline(f"off-{p}", ago(20), p) for p in pools))
        wait_for(lambda: umbrella(emulator), timeout_s=10, what="the umbrella at PagerDuty")
        assert time.monotonic() - started < 10

        summary = "Storm: 1,980 runner pools offline in warehouse (1,980 air-gapped)"
        [key] = wait_for(
            lambda: [
                a["dedup_key"]
                for a in emulator.alerts("open")
                if a["dedup_key"].startswith("rbtk:storm:") and a["summary"] == summary
            ],
            timeout_s=UPDATE_S + 20,
            what="the umbrella updated to the storm's size",
        )
        triggers = [e for e in emulator.events() if e["event_action"] == "trigger"]
        # The first 20 pools and the umbrella, updated at most once per period since.
        updates = (time.monotonic() - started) // UPDATE_S + 1
        assert THRESHOLD + 1 <= len(triggers) <= THRESHOLD + 1 + updates
        assert len(key) <= 255

        send(env, *(pool_online(f"on-{p}", ago(0), p) for p in pools))
        wait_for(
            lambda: not emulator.alerts("open"),
            timeout_s=60,
            what="no open alert once every pool is back",
        )

    assert {r["status"] for r in requests(emulator)} == {202}  # never a 429
    assert len({e["dedup_key"] for e in emulator.events()}) == THRESHOLD + 1


@pytest.mark.alone
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_crash_in_the_middle_of_a_storm_loses_no_member_and_opens_one_umbrella(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    pools = [f"pool-{i:03}" for i in range(100)]
    emulator.faults(latency_ms=1500)  # the umbrella is still in flight when rbtk is killed
    with start(**CLOCK) as service:
        env = {**admin, "RBTK_URL": service.url}
        added = rbtk(
            "admin", "pd", "connectors", "add", "pd-production", "--key", KEY,
            "--storm-window", "10", env=env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        send(env, *(pool_offline(f"off-{p}", ago(20), p) for p in pools))
        wait_for(
            lambda: any(
                r["dedup_key"].startswith("rbtk:storm:") and r["last_attempt_at"]
                for r in delivery_log(env)
            ),
            what="the umbrella in flight",
        )
        os.kill(service.process.pid, signal.SIGKILL)
        service.process.wait()
    emulator.faults()

    with start(**CLOCK) as service:
        env = {**admin, "RBTK_URL": service.url}
        wait_for(lambda: len(open_keys(emulator)) == 21, timeout_s=40, what="20 pools, 1 umbrella")
        # 65 of the 80 members come back: with 15 still firing, the storm ends 10 s later.
        send(env, *(pool_online(f"on-{p}", ago(0), p) for p in pools[20:85]))
        wait_for(
            lambda: set(open_keys(emulator)) == {pool_key(p) for p in pools[:20] + pools[85:]},
            timeout_s=40,
            what="the members still firing paged, the umbrella resolved",
        )

    umbrellas = [a for a in emulator.alerts() if a["dedup_key"].startswith("rbtk:storm:")]
    assert [a["status"] for a in umbrellas] == ["resolved"]  # one, even if sent again
    paged = {e["dedup_key"] for e in emulator.events() if e["event_action"] == "trigger"}
    assert paged == {pool_key(p) for p in pools[:20] + pools[85:]} | {umbrellas[0]["dedup_key"]}


def pool_key(pool: str) -> str:
    return f"rbtk:pool-offline:warehouse:{pool}"

"""`rbtk demo`: the service and the emulator together, playing the scenarios, stopped by Ctrl-C."""

import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from rbtk.policy import keys
from tests.e2e.conftest import Emulator
from tests.e2e.processes import RBTK, alive, children, free_port
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

POOL = keys.pool_offline("warehouse", "onprem-airgapped")


def actions(emulator: Emulator, dedup_key: str) -> list[str]:
    return [e["event_action"] for e in emulator.events() if e["dedup_key"] == dedup_key]


def exited(pid: int) -> Callable[[], bool]:
    """A probe for `wait_for`: has process `pid` exited?"""
    return lambda: not alive(pid)


def test_the_demo_pages_and_resolves_a_pool_then_stops_both_processes_on_ctrl_c() -> None:
    port, emulator_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RBTK_")}
    demo = subprocess.Popen(
        [RBTK, "demo", "--port", str(port), "--emulator-port", str(emulator_port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(demo.stdout or ()), daemon=True)
    reader.start()
    try:
        token = wait_for(
            lambda: next((line.split(": ", 1)[1].strip() for line in output
                          if line.startswith("admin token: ")), None),
            timeout_s=60,
            what="the admin token",
        )  # fmt: skip
        emulator = Emulator(f"http://127.0.0.1:{emulator_port}")

        # The air-gapped pool pages after its shortened threshold, and rbtk lists it firing.
        wait_for(lambda: "trigger" in actions(emulator, POOL), timeout_s=60, what="the page")
        [page] = [
            e for e in emulator.events() if (e["dedup_key"], e["event_action"]) == (POOL, "trigger")
        ]
        # Its 10 s threshold, said in seconds (the tick may come a moment late), not 0 minutes.
        summary = page["body"]["payload"]["summary"]
        assert re.fullmatch(r"Air-gapped pool onprem-airgapped offline for 1\d seconds", summary)
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})

        def listed() -> list[dict[str, Any]]:
            incidents = api.get("/api/v1/incidents").json()["incidents"]
            return [i for i in incidents if i["dedup_key"] == POOL]

        [incident] = wait_for(listed, timeout_s=30, what="the incident listed")
        assert (incident["state"], incident["severity"]) == ("firing", "critical")
        assert [c["connector"] for c in incident["connectors"]] == ["pd-demo"]

        # Back online: the same key is resolved.
        wait_for(
            lambda: actions(emulator, POOL) == ["trigger", "resolve"],
            timeout_s=60,
            what="the resolve",
        )
        api.close()
        started = children(demo.pid)
        everything = [*started, *(pid for child in started for pid in children(child))]
        assert len(started) == 2  # the emulator and rbtk serve (with its delivery child)

        demo.send_signal(signal.SIGINT)

        assert demo.wait(timeout=60) == 0
        for pid in everything:
            wait_for(exited(pid), timeout_s=30, what=f"process {pid} to exit")
        reader.join(timeout=10)
        text = "".join(output)
        assert "onprem-airgapped (air-gapped) offline: pages critical in 10 s" in text
        assert "a pull request's run failed: never pages" in text
        assert text.endswith(
            "stopped: rbtk and the emulator have exited, the data dir is deleted\n"
        )
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        reader.join(timeout=10)
        demo.stdout.close()

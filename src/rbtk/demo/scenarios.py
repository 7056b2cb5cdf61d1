"""The scenarios `rbtk demo` plays: the README's events, one story at a time, in real time.

The demo's rbtk runs with its pool thresholds shortened (`Timing`), so the air-gapped pool
pages seconds after it goes offline instead of 15 minutes. Every event is sent as the
platform would send it, to `POST /api/v1/events`; nothing here decides what pages, the
running service does. Each step says what it does and what should happen next.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import Any

import httpx

from rbtk.policy import keys

PROJECT = "warehouse"
AIRGAPPED_POOL = "onprem-airgapped"
FLAPPING_POOL = "hosted-linux"
RELEASE = "v1.4.0"
TEST_ID = "nav/test_lidar.py::test_scan"
POOL_KEY = keys.pool_offline(PROJECT, AIRGAPPED_POOL)

Say = Callable[[str], None]


@dataclass(frozen=True)
class Timing:
    """The demo's thresholds, in seconds: what RBTK_*_OFFLINE_MINUTES are set to."""

    airgapped_s: float = 10
    pool_s: float = 30
    # How long an incident stays open before its recovery is sent: time to look at it.
    open_s: float = 12

    def environment(self) -> dict[str, str]:
        return {
            "RBTK_AIRGAPPED_OFFLINE_MINUTES": f"{self.airgapped_s / 60:.6f}",
            "RBTK_POOL_OFFLINE_MINUTES": f"{self.pool_s / 60:.6f}",
        }


class Platform:
    """Sends events as the Roboticks platform does, and asks the emulator what it got."""

    def __init__(self, api: httpx.Client, emulator: httpx.Client) -> None:
        self.api = api
        self.emulator = emulator
        self._ids = count(1)

    def send(self, kind: str, data: dict[str, Any], *, occurred_at: datetime | None = None) -> None:
        moment = occurred_at or datetime.now(UTC)
        event = {
            "id": f"demo-{next(self._ids)}-{int(time.time() * 1000)}",
            "type": kind,
            "project_slug": PROJECT,
            "occurred_at": moment.isoformat().replace("+00:00", "Z"),
            "data": data,
        }
        self.api.post("/api/v1/events", json=event).raise_for_status()

    def paged(self, dedup_key: str) -> bool:
        """Whether PagerDuty (the emulator) holds an open incident for the key."""
        answer = self.emulator.get("/_inspect/alerts", params={"status": "open"})
        return any(alert["dedup_key"] == dedup_key for alert in answer.json()["alerts"])

    def wait_paged(self, dedup_key: str, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.paged(dedup_key):
                return True
            time.sleep(0.25)
        return False


def play(platform: Platform, say: Say, timing: Timing) -> None:
    """Every scenario, interleaved so the whole story takes well under a minute."""
    now = datetime.now(UTC)
    say(
        f"pool {PROJECT}/{AIRGAPPED_POOL} (air-gapped) offline: pages critical in "
        f"{timing.airgapped_s:g} s"
    )
    platform.send(
        "runner_pool.offline",
        {
            "pool_name": AIRGAPPED_POOL,
            "pool_type": "self-hosted",
            "airgapped": True,
            "last_heartbeat_at": now.isoformat().replace("+00:00", "Z"),
            "queued_jobs": 4,
        },
    )
    say(f"pool {PROJECT}/{FLAPPING_POOL} offline: would page in {timing.pool_s:g} s...")
    platform.send(
        "runner_pool.offline",
        {"pool_name": FLAPPING_POOL, "pool_type": "hosted", "airgapped": False, "queued_jobs": 1},
    )
    time.sleep(2)
    say(f"pool {PROJECT}/{FLAPPING_POOL} back online after 2 s: a flap, pages nobody")
    platform.send("runner_pool.online", {"pool_name": FLAPPING_POOL})

    say(f"release {RELEASE} published on main")
    platform.send("release.published", {"tag": RELEASE, "branch": "main"})
    say(f"evidence pack for {RELEASE} failed: pages critical now")
    platform.send(
        "evidence_pack.generation_failed",
        {"release_tag": RELEASE, "ref": f"refs/tags/{RELEASE}", "error": "signing key gone"},
    )
    say("a pull request's run failed: never pages (pull requests go to chat rules only)")
    platform.send("test_run.completed", _run(882, "feature/lidar", failed=True, pull_request=42))
    say(f"regression on main after {RELEASE}: {TEST_ID} failed, pages error now")
    platform.send("test_run.completed", _run(883, "main", failed=True))
    say("pinned standard iso-26262 amended (A2): pages warning; it never clears by itself")
    platform.send(
        "standard.amendment_published",
        {
            "standard": "iso-26262",
            "amendment": "A2",
            "title": "Second amendment",
            "url": "https://standards.example/iso-26262/a2",
            "pinned": True,
        },
    )

    time.sleep(timing.open_s)
    say(f"evidence pack for {RELEASE} regenerated: its incident resolves")
    platform.send(
        "evidence_pack.generated", {"release_tag": RELEASE, "ref": f"refs/tags/{RELEASE}"}
    )
    say(f"{TEST_ID} passes again on main: its incident resolves")
    platform.send("test_run.completed", _run(884, "main", failed=False))

    # The pool's recovery only once its page is out: sent before, it would cancel the page.
    waited = timing.airgapped_s + 30
    if not platform.wait_paged(POOL_KEY, waited):
        say(f"the pool's page had not reached PagerDuty after {waited:g} s: see the delivery log")
    time.sleep(timing.open_s / 2)
    say(f"pool {PROJECT}/{AIRGAPPED_POOL} back online: its incident resolves")
    platform.send("runner_pool.online", {"pool_name": AIRGAPPED_POOL})


def _run(
    run_id: int, branch: str, *, failed: bool, pull_request: int | None = None
) -> dict[str, Any]:
    status = "failed" if failed else "passed"
    return {
        "run_id": run_id,
        "branch": branch,
        "default_branch": branch == "main",
        "pull_request": pull_request,
        "status": status,
        "tests": [{"id": TEST_ID, "status": status}],
    }

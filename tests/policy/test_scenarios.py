"""The seed scenarios through the paging core alone: policy -> PagerDuty body -> emulator.

No service, no database: the engine runs on a virtual clock and its bodies are posted to a
real emulator over HTTP, whose alerts are what a PagerDuty user would see.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from rbtk.channels.pagerduty_body import encode, resolve_body, trigger_body
from rbtk.emulator import EmulatorConfig, running_emulator
from rbtk.policy import engine
from rbtk.policy.events import parse_event
from rbtk.policy.rules import PolicyConfig
from rbtk.policy.state import Action, State, Tick
from tests.factories import KEY, event, pool_offline

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)
BASE = "https://app.roboticks.test"


class Core:
    """The engine's state between inputs, sending what it asks for to the emulator."""

    def __init__(self, client: httpx.Client) -> None:
        self.client, self.state = client, State()

    def feed(self, raw: dict[str, Any] | None, now: datetime) -> None:
        item = parse_event(raw) if raw is not None else Tick()
        outcome = engine.apply(self.state, item, now, PolicyConfig())
        self.state = outcome.state
        for notification in outcome.notifications:
            if notification.action is Action.TRIGGER:
                body = trigger_body(notification, KEY, base_url=BASE)
            else:
                body = resolve_body(notification.dedup_key, KEY)
            answer = self.client.post(
                "/v2/enqueue", content=encode(body), headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 202, answer.text

    def alerts(self) -> list[tuple[str, str, str, str]]:
        alerts = self.client.get("/_inspect/alerts").json()["alerts"]
        return [(a["dedup_key"], a["status"], a["severity"], a["summary"]) for a in alerts]


@pytest.fixture
def core() -> Iterator[Core]:
    with running_emulator(EmulatorConfig(rate_limit=0)) as url, httpx.Client(base_url=url) as c:
        yield Core(c)


def test_an_air_gapped_pool_offline_17_minutes_opens_a_critical_incident(core: Core) -> None:
    core.feed(pool_offline("e1", T0 - timedelta(minutes=15)), T0)  # heartbeat 17 minutes ago

    assert core.alerts() == [
        (
            "rbtk:pool-offline:warehouse:onprem-airgapped",
            "triggered",
            "critical",
            "Air-gapped pool onprem-airgapped offline for 17 minutes",
        )
    ]


def test_an_air_gapped_pool_pages_at_its_threshold_on_a_clock_tick_alone(core: Core) -> None:
    core.feed(pool_offline("e1", T0), T0)  # last heartbeat two minutes before
    core.feed(None, T0 + timedelta(minutes=12))
    nothing_yet = core.alerts()
    core.feed(None, T0 + timedelta(minutes=13))  # fifteen minutes since the heartbeat

    assert nothing_yet == []
    assert [(k, sev) for k, _, sev, _ in core.alerts()] == [
        ("rbtk:pool-offline:warehouse:onprem-airgapped", "critical")
    ]


def test_an_evidence_pack_failure_on_a_release_resolves_when_the_retry_succeeds(
    core: Core,
) -> None:
    failed = event(
        "e1", "evidence_pack.generation_failed", T0, release_tag="v2.4.0", ref="main", error="x"
    )
    generated = event("e2", "evidence_pack.generated", T0, release_tag="v2.4.0", ref="main")

    core.feed(failed, T0)
    opened = core.alerts()
    core.feed(generated, T0 + timedelta(minutes=5))

    assert [(k, s, sev) for k, s, sev, _ in opened] == [
        ("rbtk:evidence-fail:warehouse:v2.4.0", "triggered", "critical")
    ]
    assert [(k, s) for k, s, _, _ in core.alerts()] == [
        ("rbtk:evidence-fail:warehouse:v2.4.0", "resolved")
    ]


def run(event_id: str, at: datetime, tests: dict[str, str], **shape: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"branch": "main", "default_branch": True, "pull_request": None} | shape
    status = "failed" if "failed" in tests.values() else "passed"
    listed = [{"id": test_id, "status": result} for test_id, result in tests.items()]
    return event(
        event_id, "test_run.completed", at, run_id=event_id, status=status, tests=listed, **data
    )


def test_a_post_release_failure_pages_per_test_and_resolves_when_it_passes(core: Core) -> None:
    core.feed(event("r1", "release.published", T0, tag="v2.4.0", branch="main"), T0)
    later = T0 + timedelta(hours=1)
    core.feed(run("run-1", later, {"nav/dock": "failed", "nav/lift": "failed"}), later)
    core.feed(run("run-2", later + timedelta(hours=1), {"nav/dock": "passed"}), later)

    assert [(k, s, sev) for k, s, sev, _ in core.alerts()] == [
        ("rbtk:postrelease-fail:warehouse:main:nav/dock", "resolved", "error"),
        ("rbtk:postrelease-fail:warehouse:main:nav/lift", "triggered", "error"),
    ]


def test_a_pull_request_failure_never_pages(core: Core) -> None:
    core.feed(event("r1", "release.published", T0, tag="v2.4.0", branch="main"), T0)
    later = T0 + timedelta(hours=1)
    pr = run("run-pr", later, {"nav/dock": "failed"}, branch="feature/x", default_branch=False,
             pull_request=412)  # fmt: skip

    core.feed(pr, later)

    assert core.alerts() == []

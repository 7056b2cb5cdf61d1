"""Each event's record says what it did, including a page its condition sent later: a pool
report that pages when its threshold passes on a tick reads "paged", lists that trigger,
and is found by `?paged=true` (the demo's air-gapped pool, which read "Paged: No")."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from rbtk.app import create_app
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.intake.scheduler import Scheduler
from rbtk.policy.rules import DEFAULT_ENABLED, Rule
from tests.factories import add_connector, pool_offline

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)
POOL = "rbtk:pool-offline:warehouse:edge"


@pytest.fixture
def api(context: Context, admin_token: str) -> Iterator[TestClient]:
    with TestClient(create_app(context, workers=False)) as client:
        client.headers["Authorization"] = f"Bearer {admin_token}"
        yield client


def test_a_report_that_pages_when_its_threshold_passes_reads_paged_with_its_trigger(
    context: Context, api: TestClient
) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline("report-1", T0, "edge", airgapped=True)], T0)
    before = api.get("/api/v1/events/report-1").json()
    assert before["event"]["paged"] is False
    assert [r for r in before["event"]["reasons"] if r.startswith("pending")]

    fired, _ = Scheduler(context).fire_due(now=T0 + timedelta(minutes=15))

    assert fired == 1
    after = api.get("/api/v1/events/report-1").json()
    assert after["event"]["paged"] is True
    assert [(d["action"], d["dedup_key"], d["severity"]) for d in after["deliveries"]] == [
        ("trigger", POOL, "critical")
    ]
    assert any(
        r.startswith("threshold passed at 2026-05-25T02:15:00Z: airgapped_pool_offline (critical)")
        for r in after["event"]["reasons"]
    ), after["event"]["reasons"]
    assert after["event"]["decisions"] == [
        {
            "dedup_key": POOL,
            "rule": "airgapped_pool_offline",
            "connector": "pd-production",
            "outcome": "sent",
            "severity": "critical",
            "stage": "rows",
            "reason": "sent to pd-production as critical",
        }
    ]
    paged = api.get("/api/v1/events", params={"paged": "true"}).json()["events"]
    assert [e["id"] for e in paged] == ["report-1"]


def test_a_tick_that_no_connector_takes_leaves_the_report_unpaged_and_says_why(
    context: Context, api: TestClient
) -> None:
    add_connector(context, rules=DEFAULT_ENABLED - {Rule.AIRGAPPED_POOL_OFFLINE}, now=T0)
    ingest(context, [pool_offline("report-1", T0, "edge", airgapped=True)], T0)

    Scheduler(context).fire_due(now=T0 + timedelta(minutes=15))

    event = api.get("/api/v1/events/report-1").json()["event"]
    assert event["paged"] is False
    assert "rule airgapped_pool_offline is switched off on pd-production" in event["reasons"]
    assert event["decisions"] == [
        {
            "dedup_key": POOL,
            "rule": "airgapped_pool_offline",
            "connector": "pd-production",
            "outcome": "left out",
            "severity": None,
            "stage": "toggles",
            "reason": "rule airgapped_pool_offline is switched off on pd-production",
        }
    ]
    [incident] = api.get("/api/v1/incidents").json()["incidents"]
    assert incident["not_paged"] == "rule airgapped_pool_offline is switched off on pd-production"


def test_a_condition_started_by_one_report_keeps_that_report_when_another_follows(
    context: Context, api: TestClient
) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline("report-1", T0, "edge", airgapped=True)], T0)
    ingest(context, [pool_offline("report-2", T0 + timedelta(minutes=5), "edge")], T0)

    Scheduler(context).fire_due(now=T0 + timedelta(minutes=15))

    assert api.get("/api/v1/events/report-1").json()["event"]["paged"] is True
    assert api.get("/api/v1/events/report-2").json()["event"]["paged"] is False

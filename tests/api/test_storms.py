"""GET /api/v1/pagerduty/storms[/{id}]: storms and their members, a page at a time."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.intake.scheduler import Scheduler
from tests.factories import add_connector, pool_offline

# On both databases: the storms' member pages are tested here only.
pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)
URL = "/api/v1/pagerduty/storms"


def a_storm(context: Context, pools: int) -> None:
    add_connector(context, now=T0)
    offline = [
        pool_offline(f"off-{i}", T0 - timedelta(hours=1), f"pool-{i:02}") for i in range(pools)
    ]
    ingest(context, offline, T0)
    Scheduler(context).fire_due(T0)


def test_storms_are_listed_with_their_umbrella(admin: TestClient, context: Context) -> None:
    a_storm(context, 45)

    answer = admin.get(URL)

    assert answer.status_code == 200
    assert answer.json() == {
        "storms": [
            {
                "id": 1,
                "connector": "pd-production",
                "dedup_key": "rbtk:storm:pd-production:20260525T020000Z",
                "state": "open",
                "started_at": "2026-05-25T02:00:00Z",
                "ended_at": None,
                "members": 25,
                "held": 25,
                "peak": 25,
                "released": None,
                "summary": "Storm: 25 runner pools offline in warehouse (25 air-gapped)",
                "severity": "critical",
            }
        ]
    }


def test_a_storms_members_come_a_page_at_a_time(admin: TestClient, context: Context) -> None:
    a_storm(context, 45)

    first = admin.get(f"{URL}/1", params={"limit": 20}).json()
    rest = admin.get(f"{URL}/1", params={"limit": 20, "after_id": first["next_after_id"]}).json()

    keys = [m["dedup_key"] for m in first["members"] + rest["members"]]
    assert keys == [f"rbtk:pool-offline:warehouse:pool-{i}" for i in range(20, 45)]
    assert (len(first["members"]), rest["next_after_id"]) == (20, None)
    assert first["members"][0] | {"delivery_id": 0} == {
        "delivery_id": 0,
        "dedup_key": "rbtk:pool-offline:warehouse:pool-20",
        "severity": "critical",
        "summary": "Air-gapped pool pool-20 offline for 62 minutes",
        "held_at": "2026-05-25T02:00:00Z",
        "event_id": "off-20",
        "state": "held",
    }


def test_an_unknown_storm_is_404(admin: TestClient) -> None:
    answer = admin.get(f"{URL}/7")

    assert (answer.status_code, answer.json()["detail"]) == (404, "no storm #7")


def test_an_open_storms_umbrella_is_an_incident_and_its_members_name_the_storm(
    admin: TestClient, context: Context
) -> None:
    a_storm(context, 45)

    listed = admin.get("/api/v1/incidents", params={"state": "all", "limit": 500}).json()

    [umbrella] = [i for i in listed["incidents"] if i["kind"] == "storm"]
    assert umbrella | {"since": ""} == {
        "dedup_key": "rbtk:storm:pd-production:20260525T020000Z",
        "project": "",
        "kind": "storm",
        "rule": None,
        "severity": "critical",
        "state": "firing",
        "paged": True,
        "not_paged": None,
        "since": "",
        "pages_at": None,
        "summary": "Storm: 25 runner pools offline in warehouse (25 air-gapped)",
        "connectors": [
            {
                "connector": "pd-production",
                "state": "queued",
                "severity": "critical",
                "resolved_in_pagerduty_at": None,
                "storm_id": None,
                "pagerduty": None,
            }
        ],
        "storm_id": 1,
    }
    held = [i for i in listed["incidents"] if i["connectors"][0]["state"] == "held by storm #1"]
    assert len(held) == 25
    assert {i["connectors"][0]["storm_id"] for i in held} == {1}

"""GET /api/v1/events[/{id}]: each received event, whether it paged, and why not where not."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.policy.rules import DEFAULT_ENABLED, Rule
from tests.factories import add_connector, add_window, event, pool_offline, pool_online

# On both databases: the event log's queries are tested here only.
pytestmark = pytest.mark.both_databases

URL = "/api/v1/events"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def pr_failure(event_id: str, at: datetime) -> dict[str, Any]:
    return event(
        event_id, "test_run.completed", at,
        run_id="run-9", branch="feature/x", default_branch=False, pull_request=42,
        status="failed", tests=[{"id": "nav/test_lidar", "status": "failed"}],
    )  # fmt: skip


def test_a_pull_request_failure_says_why_it_did_not_page(
    admin: TestClient, context: Context
) -> None:
    at = now()
    add_connector(context, now=at)
    ingest(context, [pr_failure("pr-1", at)], at)

    answer = admin.get(f"{URL}/pr-1")

    assert answer.status_code == 200
    body = answer.json()
    assert body["event"]["paged"] is False
    assert body["event"]["reasons"] == ["pull request #42: runs on pull requests never page"]
    assert body["event"]["data"]["pull_request"] == 42
    assert body["incidents"] == []
    assert body["deliveries"] == []


def test_a_pool_offline_for_7_minutes_is_pending_and_pages_at_15(
    admin: TestClient, context: Context
) -> None:
    at = now()
    add_connector(context, now=at)
    ingest(context, [pool_offline("off-1", at - timedelta(minutes=5), "rack-b")], at)

    body = admin.get(f"{URL}/off-1").json()

    assert body["event"]["paged"] is False
    critical, error = body["event"]["reasons"]
    assert critical.startswith(
        "pending (airgapped_pool_offline): offline for 7 min: pages at 15 min"
    )
    assert error.startswith("pending (pool_offline): offline for 7 min: pages at 60 min")
    [incident] = body["incidents"]
    assert incident["state"] == "pending"
    assert incident["dedup_key"] == "rbtk:pool-offline:warehouse:rack-b"


def test_an_event_that_pages_lists_the_rows_it_queued(admin: TestClient, context: Context) -> None:
    at = now()
    add_connector(context, now=at)
    ingest(context, [pool_offline("off-1", at - timedelta(minutes=18), "rack-a")], at)

    body = admin.get(f"{URL}/off-1").json()

    assert body["event"]["paged"] is True
    assert body["event"]["reasons"] == []
    [row] = body["deliveries"]
    assert {k: row[k] for k in ("connector", "action", "severity", "status", "event_id")} == {
        "connector": "pd-production",
        "action": "trigger",
        "severity": "critical",
        "status": "queued",
        "event_id": "off-1",
    }
    assert [i["state"] for i in body["incidents"]] == ["firing"]


def test_reasons_name_a_rule_switched_off_and_a_window_holding_the_page(
    admin: TestClient, context: Context
) -> None:
    at = now()
    add_connector(context, now=at)
    add_connector(
        context, "pd-staging", "b" * 32, rules=DEFAULT_ENABLED - {Rule.AIRGAPPED_POOL_OFFLINE},
        now=at,
    )  # fmt: skip
    window = add_window(
        context, "pd-production", at - timedelta(minutes=1), at + timedelta(hours=2)
    )
    ingest(context, [pool_offline("off-1", at - timedelta(minutes=18), "rack-a")], at)

    body = admin.get(f"{URL}/off-1").json()

    assert body["event"]["paged"] is True  # held is still a page: it goes when the window ends
    held, off = sorted(body["event"]["reasons"])
    assert held.startswith(f"held on pd-production: suppression #{window} until ")
    assert off == "rule airgapped_pool_offline is switched off on pd-staging"


def test_a_pool_back_before_its_threshold_says_it_never_paged(
    admin: TestClient, context: Context
) -> None:
    at = now()
    add_connector(context, now=at)
    ingest(context, [pool_offline("off-1", at - timedelta(minutes=2), "rack-c")], at)
    ingest(context, [pool_online("on-1", at, "rack-c")], at + timedelta(minutes=2))

    reasons = admin.get(f"{URL}/on-1").json()["event"]["reasons"]

    assert reasons == ["pool back online after 6 min, before its 15 min threshold: never paged"]


def test_events_are_listed_newest_first_with_filters_and_pages(
    admin: TestClient, context: Context
) -> None:
    at = now()
    add_connector(context, now=at)
    ingest(context, [pr_failure("pr-1", at)], at - timedelta(seconds=1))
    ingest(context, [pool_offline("off-1", at - timedelta(minutes=18), "rack-a")], at)
    ingest(
        context,
        [pool_offline("off-2", at - timedelta(minutes=18), "rack-z", project="depot")],
        at + timedelta(seconds=1),
    )

    def ids(**params: Any) -> list[str]:
        return [e["id"] for e in admin.get(URL, params=params).json()["events"]]

    assert ids() == ["off-2", "off-1", "pr-1"]
    assert ids(paged=False) == ["pr-1"]
    assert ids(paged=True, project="warehouse") == ["off-1"]
    assert ids(type="test_run.completed") == ["pr-1"]
    first = admin.get(URL, params={"limit": 2}).json()
    assert [e["id"] for e in first["events"]] == ["off-2", "off-1"]
    assert first["next_before"] == "off-1"
    assert ids(limit=2, before=first["next_before"]) == ["pr-1"]


def test_an_unknown_event_is_404_and_events_are_for_admins(
    admin: TestClient, context: Context, events_token: str
) -> None:
    assert admin.get(f"{URL}/never-sent").status_code == 404
    refused = admin.get(URL, headers={"Authorization": f"Bearer {events_token}"})
    assert refused.status_code == 403

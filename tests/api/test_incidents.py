"""GET /api/v1/incidents and POST /api/v1/incidents/resolve: what is firing, pending and held,
and resolving by hand."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.policy.rules import DEFAULT_ENABLED, Rule
from rbtk.store.tables import events, outbox
from tests.factories import add_connector, add_window, event, pool_offline, send_everything

# On both databases: the incidents' queries are tested here only.
pytestmark = pytest.mark.both_databases

URL = "/api/v1/incidents"
AMENDMENT = "rbtk:standard-amendment:warehouse:iso-26262:A2"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def amendment() -> dict[str, Any]:
    return event(
        "amend-1", "standard.amendment_published", now(),
        standard="iso-26262", amendment="A2", title="Second amendment", pinned=True,
        url="https://standards.example/a2",
    )  # fmt: skip


def the_fleet(context: Context) -> datetime:
    """pd-production takes amendments too; one pool offline for 20 minutes (firing), one for
    7 (pending until 15), and a pinned standard amended (firing, never clears)."""
    at = now()
    add_connector(context, rules=DEFAULT_ENABLED | {Rule.STANDARD_AMENDMENT}, now=at)
    offline = [
        pool_offline("off-a", at - timedelta(minutes=18), "rack-a"),
        pool_offline("off-b", at - timedelta(minutes=5), "rack-b"),
        amendment(),
    ]
    ingest(context, offline, at)
    return at


def keys(answer: dict[str, Any]) -> list[str]:
    return [i["dedup_key"] for i in answer["incidents"]]


def test_a_rule_that_fired_with_no_connector_taking_it_reads_not_paged_and_why(
    admin: TestClient, context: Context
) -> None:
    add_connector(context, now=now())  # amendments are off by default
    ingest(context, [amendment()], now())

    [incident] = admin.get(URL).json()["incidents"]

    assert (incident["dedup_key"], incident["state"], incident["paged"]) == (
        AMENDMENT,
        "not paged",
        False,
    )
    assert incident["not_paged"] == "rule standard_amendment is switched off on pd-production"
    assert incident["connectors"] == []


def test_firing_incidents_are_listed_with_where_each_went(
    admin: TestClient, context: Context
) -> None:
    the_fleet(context)

    answer = admin.get(URL)

    assert answer.status_code == 200
    body = answer.json()
    assert keys(body) == ["rbtk:pool-offline:warehouse:rack-a", AMENDMENT]
    pool = body["incidents"][0]
    assert pool | {"since": "", "summary": ""} == {
        "dedup_key": "rbtk:pool-offline:warehouse:rack-a",
        "project": "warehouse",
        "kind": "pool_offline",
        "rule": "airgapped_pool_offline",
        "severity": "critical",
        "state": "firing",
        "paged": True,
        "not_paged": None,
        "since": "",
        "pages_at": None,
        "summary": "",
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
        "storm_id": None,
    }
    assert pool["summary"].startswith("Air-gapped pool rack-a offline for 20 minutes")
    assert body["next_after"] is None


def test_a_pending_condition_says_when_it_will_page(admin: TestClient, context: Context) -> None:
    at = the_fleet(context)

    [pending] = admin.get(URL, params={"state": "pending"}).json()["incidents"]

    assert (pending["dedup_key"], pending["state"], pending["severity"]) == (
        "rbtk:pool-offline:warehouse:rack-b",
        "pending",
        None,
    )
    pages_at = at - timedelta(minutes=7) + timedelta(minutes=15)
    assert pending["pages_at"] == pages_at.isoformat().replace("+00:00", "Z")
    assert pending["connectors"] == []
    assert len(admin.get(URL, params={"state": "all"}).json()["incidents"]) == 3


def test_a_trigger_a_window_holds_is_listed_as_held(admin: TestClient, context: Context) -> None:
    at = now()
    add_connector(context, now=at)
    window = add_window(
        context, "pd-production", at - timedelta(minutes=1), at + timedelta(hours=1)
    )
    ingest(context, [pool_offline("off-a", at - timedelta(minutes=18), "rack-a")], at)

    [held] = admin.get(URL, params={"state": "held"}).json()["incidents"]

    assert held["connectors"] == [
        {
            "connector": "pd-production",
            "state": f"held by suppression #{window}",
            "severity": "critical",
            "resolved_in_pagerduty_at": None,
            "storm_id": None,
            "pagerduty": None,
        }
    ]


def test_incidents_come_a_page_at_a_time_and_filter_by_project(
    admin: TestClient, context: Context
) -> None:
    at = now()
    add_connector(context, now=at)
    offline = [
        pool_offline(f"off-{i}", at - timedelta(minutes=18), f"rack-{i}", project=project)
        for i, project in enumerate(["warehouse", "lab", "warehouse", "warehouse", "lab"])
    ]
    ingest(context, offline, at)

    first = admin.get(URL, params={"limit": 2, "project": "warehouse"}).json()
    rest = admin.get(URL, params={"limit": 2, "project": "warehouse", "after": first["next_after"]})

    assert keys(first) + keys(rest.json()) == [
        f"rbtk:pool-offline:warehouse:rack-{i}" for i in (0, 2, 3)
    ]
    assert rest.json()["next_after"] is None


def test_resolving_by_hand_sends_the_resolve_and_records_who(
    admin: TestClient, context: Context
) -> None:
    send_everything(context, the_fleet(context))  # at PagerDuty: its resolve must follow

    answer = admin.post(f"{URL}/resolve", json={"dedup_key": AMENDMENT})

    assert answer.status_code == 200
    body = answer.json()
    assert (body["incident"]["dedup_key"], body["resolves"]) == (AMENDMENT, 1)
    assert AMENDMENT not in keys(admin.get(URL, params={"state": "all"}).json())
    with context.engine.connect() as connection:
        [resolve] = connection.execute(
            select(outbox).where(outbox.c.dedup_key == AMENDMENT, outbox.c.action == "resolve")
        ).all()
        [record] = connection.execute(select(events).where(events.c.id == body["event_id"]))
    assert (resolve.status, resolve.severity, resolve.event_id) == (
        "queued",
        "warning",
        body["event_id"],
    )
    assert (record.type, record.data) == (
        "rbtk.resolved_by_hand",
        {"dedup_key": AMENDMENT, "by": "test"},
    )


def test_resolving_what_is_not_open_is_404(admin: TestClient, context: Context) -> None:
    answer = admin.post(f"{URL}/resolve", json={"dedup_key": "rbtk:pool-offline:x:y"})

    assert (answer.status_code, answer.json()["detail"]) == (
        404,
        "nothing is firing or pending with dedup key 'rbtk:pool-offline:x:y'",
    )

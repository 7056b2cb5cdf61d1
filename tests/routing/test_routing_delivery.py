"""Two PagerDuty services, production and staging, against the emulator."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from rbtk.admin import runbooks
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from tests.factories import (
    KEY,
    OTHER_KEY,
    add_connector,
    add_route,
    event,
    pool_offline,
    pool_online,
)
from tests.waiting import wait_for


def now() -> datetime:
    return datetime.now(UTC)


def received(emulator: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = httpx.get(f"{emulator}/_inspect/events").json()["events"]
    return events


def test_events_land_on_the_routing_key_their_rule_names(
    context: Context, service: str, emulator: str
) -> None:
    add_connector(context, "pd-production", KEY, now=now())
    add_connector(
        context, "pd-staging", OTHER_KEY, is_default=False, max_severity="warning", now=now()
    )
    add_route(context, 1, ["pd-staging"], project="*-staging", now=now())
    add_route(context, 2, ["pd-staging"], event_type="standard.*", now=now())

    ingest(
        context,
        [
            pool_offline("e1", now() - timedelta(hours=2), "p1", project="warehouse"),
            pool_offline("e2", now() - timedelta(hours=2), "p2", project="warehouse-staging"),
            event(
                "e3",
                "evidence_pack.generation_failed",
                now(),
                "warehouse-staging",
                release_tag="v9",
                ref="main",
            ),
        ],
        now(),
    )

    events = wait_for(lambda: received(emulator), until=lambda events: len(events) == 3)
    landed = {(e["dedup_key"], e["routing_key"], e["body"]["payload"]["severity"]) for e in events}
    assert landed == {
        ("rbtk:pool-offline:warehouse:p1", KEY, "critical"),
        ("rbtk:pool-offline:warehouse-staging:p2", OTHER_KEY, "warning"),
        ("rbtk:evidence-fail:warehouse-staging:v9", OTHER_KEY, "warning"),
    }


def test_a_resolve_follows_its_trigger_after_the_routing_changed(
    context: Context, service: str, emulator: str
) -> None:
    add_connector(context, "pd-production", KEY, now=now())
    add_connector(context, "pd-staging", OTHER_KEY, is_default=False, now=now())
    ingest(context, [pool_offline("e1", now() - timedelta(hours=2), "p1")], now())
    wait_for(lambda: received(emulator))

    add_route(context, 1, ["pd-staging"], project="*", now=now())  # all to staging now
    ingest(context, [pool_online("e2", now(), "p1")], now())

    events = wait_for(lambda: received(emulator), until=lambda events: len(events) == 2)
    assert [(e["event_action"], e["routing_key"]) for e in events] == [
        ("trigger", KEY),
        ("resolve", KEY),
    ]
    alerts = httpx.get(f"{emulator}/_inspect/alerts").json()["alerts"]
    assert [(a["routing_key"], a["status"]) for a in alerts] == [(KEY, "resolved")]


def test_a_rules_runbook_reaches_pagerduty_with_its_incidents_until_it_is_unset(
    context: Context, service: str, emulator: str
) -> None:
    runbook = "https://wiki.roboticks.test/runbooks/airgapped-pool-offline"
    add_connector(context, "pd-production", KEY, now=now())
    with context.engine.begin() as connection:
        runbooks.set_url(
            connection, rule="airgapped_pool_offline", url=runbook, by="test", now=now()
        )

    ingest(context, [pool_offline("e1", now() - timedelta(minutes=20), "p1")], now())
    [first] = wait_for(lambda: received(emulator), until=lambda events: len(events) == 1)
    with context.engine.begin() as connection:
        runbooks.unset(connection, rule="airgapped_pool_offline", by="test", now=now())
    ingest(context, [pool_offline("e2", now() - timedelta(minutes=20), "p2")], now())
    second = wait_for(lambda: received(emulator), until=lambda events: len(events) == 2)[1]

    assert first["body"]["links"] == [
        {"href": "https://roboticks.test/r/warehouse/pools/p1", "text": "View pool in Roboticks"},
        {"href": runbook, "text": "Runbook: airgapped_pool_offline"},
    ]
    assert [link["text"] for link in second["body"]["links"]] == ["View pool in Roboticks"]

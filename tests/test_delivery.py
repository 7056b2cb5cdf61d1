"""Delivery to a real PagerDuty peer (the emulator): outages, throttling, refusals."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from rbtk.intake.ingest import ingest
from rbtk.runtime.context import Context
from rbtk.store.tables import outbox
from tests.factories import KEY, add_connector, pool_offline, pool_online
from tests.waiting import wait_for


def now() -> datetime:
    return datetime.now(UTC)


def log(context: Context) -> list[dict[str, Any]]:
    with context.engine.connect() as connection:
        rows = connection.execute(select(outbox).order_by(outbox.c.id))
        return [dict(r._mapping) for r in rows]


def received(emulator: str) -> list[tuple[str, str]]:
    events = httpx.get(f"{emulator}/_inspect/events").json()["events"]
    return [(e["event_action"], e["dedup_key"]) for e in events]


def set_faults(emulator: str, **faults: Any) -> None:
    httpx.put(f"{emulator}/_control/faults", json=faults).raise_for_status()


def test_it_delivers_a_trigger_and_its_resolve_with_the_connector_key(
    context: Context, service: str, emulator: str
) -> None:
    add_connector(context, now=now())

    ingest(context, [pool_offline("e1", now() - timedelta(minutes=20))], now())
    ingest(context, [pool_online("e2", now())], now())

    key = "rbtk:pool-offline:warehouse:onprem-airgapped"
    wait_for(lambda: len(received(emulator)) == 2, what="two events at PagerDuty")
    assert received(emulator) == [("trigger", key), ("resolve", key)]
    events = httpx.get(f"{emulator}/_inspect/events").json()["events"]
    assert {e["routing_key"] for e in events} == {KEY}
    rows = wait_for(lambda: [r for r in log(context) if r["status"] == "sent"][1:] and log(context))
    assert [(r["action"], r["status"], r["http_status"], r["attempts"]) for r in rows] == [
        ("trigger", "sent", 202, 1),
        ("resolve", "sent", 202, 1),
    ]
    assert all(r["latency_ms"] is not None and r["message"] == "Event processed" for r in rows)


def test_an_outage_loses_nothing_and_keeps_each_key_in_order(
    context: Context, service: str, emulator: str
) -> None:
    add_connector(context, now=now())
    set_faults(emulator, error_rate=1.0)

    pools = [f"p{i}" for i in range(5)]
    ingest(context, [pool_offline(f"off-{p}", now() - timedelta(hours=2), p) for p in pools], now())
    ingest(context, [pool_online(f"on-{p}", now(), p) for p in pools], now())
    wait_for(
        lambda: sum(r["status"] == "retrying" for r in log(context)) == 5,
        what="five triggers retrying",
    )
    set_faults(emulator, force_429=3)
    set_faults(emulator)  # PagerDuty is back

    wait_for(lambda: len(received(emulator)) == 10, what="every page delivered")
    for pool in pools:
        key = f"rbtk:pool-offline:warehouse:{pool}"
        assert [a for a, k in received(emulator) if k == key] == ["trigger", "resolve"]
    rows = wait_for(lambda: all(r["status"] == "sent" for r in log(context)) and log(context))
    assert all(r["attempts"] >= 2 for r in rows if r["action"] == "trigger")
    alerts = httpx.get(f"{emulator}/_inspect/alerts").json()["alerts"]
    assert len(alerts) == 5 and {a["status"] for a in alerts} == {"resolved"}


def test_a_429_with_retry_after_is_retried_no_sooner_than_asked(
    context: Context, service: str, emulator: str
) -> None:
    add_connector(context, now=now())
    set_faults(emulator, force_429=1, retry_after=1)

    ingest(context, [pool_offline("e1", now() - timedelta(hours=2))], now())

    first = wait_for(lambda: [r for r in log(context) if r["status"] == "retrying"])
    assert (first[0]["http_status"], first[0]["attempts"]) == (429, 1)
    assert first[0]["next_attempt_at"] - first[0]["last_attempt_at"] >= timedelta(seconds=1)
    wait_for(lambda: log(context)[0]["status"] == "sent", what="the retry to go through")


def test_a_dropped_connection_is_retried(context: Context, service: str, emulator: str) -> None:
    add_connector(context, now=now())
    set_faults(emulator, drop_next=1)

    ingest(context, [pool_offline("e1", now() - timedelta(hours=2))], now())

    row = wait_for(lambda: log(context)[0]["status"] == "sent" and log(context)[0])
    assert row["attempts"] == 2


def test_a_400_fails_the_row_with_pagerdutys_message_and_is_not_retried(
    context: Context, service: str, emulator: str
) -> None:
    add_connector(context, key="y_NbAkKc66ryYTWUXYEu", now=now())  # slipped past validation

    ingest(context, [pool_offline("e1", now() - timedelta(hours=2))], now())

    row = wait_for(lambda: log(context)[0]["status"] == "failed" and log(context)[0])
    assert (row["http_status"], row["attempts"], row["message"]) == (
        400,
        1,
        "Event object is invalid",
    )
    assert row["errors"] == ["Length of 'routing_key' is incorrect (should be 32 characters)"]
    assert received(emulator) == []


def test_an_unreachable_pagerduty_is_retried_with_the_reason_logged(context: Context) -> None:
    from rbtk.app import create_app
    from tests.live import serving

    add_connector(context, now=now())
    with serving(create_app(context)):  # settings point at a closed port
        ingest(context, [pool_offline("e1", now() - timedelta(hours=2))], now())
        row = wait_for(lambda: log(context)[0]["status"] == "retrying" and log(context)[0])
    assert row["http_status"] is None
    assert row["message"].startswith("could not reach PagerDuty")

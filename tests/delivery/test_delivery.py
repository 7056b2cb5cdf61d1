"""Delivery to a real PagerDuty peer (the emulator): outages, throttling, refusals."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import aiohttp
import httpx
import pytest
from sqlalchemy import select, update

from rbtk.app import create_app
from rbtk.context import Context
from rbtk.delivery.worker import Deliverer
from rbtk.emulator import EmulatorConfig, running_emulator
from rbtk.intake.ingest import ingest
from rbtk.outbox.pipeline.coalesce import CLEARED, NEVER_TRIGGERED
from rbtk.outbox.queue.claim import claim
from rbtk.runtime.secrets import Secret
from rbtk.store.tables import connectors, outbox
from tests.factories import KEY, OTHER_KEY, add_connector, pool_offline, pool_online
from tests.live import serving
from tests.waiting import wait_for

LEASE = timedelta(seconds=60)


def now() -> datetime:
    return datetime.now(UTC)


def log(context: Context) -> list[dict[str, Any]]:
    with context.engine.connect() as connection:
        rows = connection.execute(select(outbox).order_by(outbox.c.id))
        return [dict(r._mapping) for r in rows]


def all_sent(rows: list[dict[str, Any]]) -> bool:
    """Rows there are, and every one of them sent."""
    return bool(rows) and all(r["status"] == "sent" for r in rows)


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
    # Once the trigger is at PagerDuty: a resolve that came first would cancel it unsent.
    wait_for(lambda: len(received(emulator)) == 1, what="the trigger at PagerDuty")
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
    wait_for(
        lambda: sum(r["status"] == "retrying" for r in log(context)) == 5,
        what="five triggers retrying",
    )
    # Tried, so perhaps at PagerDuty: their resolves queue behind them, never cancel them.
    ingest(context, [pool_online(f"on-{p}", now(), p) for p in pools], now())
    set_faults(emulator, force_429=3)
    set_faults(emulator)  # PagerDuty is back

    wait_for(lambda: len(received(emulator)) == 10, what="every page delivered")
    for pool in pools:
        key = f"rbtk:pool-offline:warehouse:{pool}"
        assert [a for a, k in received(emulator) if k == key] == ["trigger", "resolve"]
    rows = wait_for(lambda: log(context), until=all_sent)
    assert all(r["attempts"] >= 2 for r in rows if r["action"] == "trigger")
    alerts = httpx.get(f"{emulator}/_inspect/alerts").json()["alerts"]
    assert len(alerts) == 5 and {a["status"] for a in alerts} == {"resolved"}


def test_a_429_with_retry_after_is_retried_no_sooner_than_asked(
    context: Context, service: str, emulator: str
) -> None:
    # Retry-After is honoured up to the retry cap (the suite's is 0.2 s): a cap above it.
    context.settings = context.settings.model_copy(update={"retry_cap_s": 5.0})
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
    add_connector(context, now=now())
    bad = Secret("y_NbAkKc66ryYTWUXYEu")
    with context.engine.begin() as connection:  # forged: a key that slipped past validation
        connection.execute(
            update(connectors).values(
                routing_key=context.vault.encrypt(bad), key_fingerprint=bad.fingerprint
            )
        )

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


# recovery after an outage: back off per endpoint, not per row (issue 8, items 5 and 5b)


def requests_at(emulator: str) -> list[datetime]:
    listed = httpx.get(f"{emulator}/_inspect/requests").json()["requests"]
    return [datetime.fromisoformat(r["received_at"].replace("Z", "+00:00")) for r in listed]


@pytest.fixture
def slow_retries(context: Context) -> None:
    """Per-row backoff as in production (tens of seconds): only the endpoint's probe can
    bring rows back within seconds."""
    context.settings = context.settings.model_copy(
        update={"retry_base_s": 60.0, "retry_cap_s": 600.0}
    )


@pytest.fixture
def quick_probes(context: Context) -> None:
    """Probes 0.1, 0.2, then 0.4 s apart (0.5 s doubling to 5 s in production)."""
    context.settings = context.settings.model_copy(
        update={"probe_first_s": 0.1, "probe_max_s": 0.4}
    )


def test_a_failing_pagerduty_is_probed_with_one_row_at_a_time_not_hammered(
    context: Context, quick_probes: None, service: str, emulator: str
) -> None:
    add_connector(context, now=now())
    set_faults(emulator, error_rate=1.0)

    pools = [f"p{i}" for i in range(10)]
    ingest(context, [pool_offline(f"off-{p}", now() - timedelta(hours=2), p) for p in pools], now())
    wait_for(lambda: all(r["attempts"] for r in log(context)), what="every row tried once")
    tried = len(requests_at(emulator))
    probes = wait_for(lambda: requests_at(emulator)[tried:][4:] and requests_at(emulator)[tried:])

    # One request per interval, 0.2 + 0.4 + 0.4 + 0.4 s for the first five probes (less what
    # a late first request takes off); per row, ten rows retried every 0.05-0.2 s on their own
    # (RBTK_RETRY_BASE_S, RBTK_RETRY_CAP_S) would make five requests in a fraction of that.
    assert (probes[4] - probes[0]).total_seconds() >= 1.0, probes
    assert {r["status"] for r in log(context)} == {"retrying"}


def test_the_first_answer_after_an_outage_makes_every_waiting_row_due_at_once(
    context: Context, slow_retries: None, service: str, emulator: str
) -> None:
    add_connector(context, now=now())
    set_faults(emulator, error_rate=1.0)
    pools = [f"p{i}" for i in range(10)]
    ingest(context, [pool_offline(f"off-{p}", now() - timedelta(hours=2), p) for p in pools], now())
    rows = wait_for(
        lambda: [r for r in log(context) if r["status"] == "retrying"][9:] and log(context),
        what="every row tried once and backed off",
    )
    assert min(r["next_attempt_at"] for r in rows) > now() + timedelta(seconds=20)

    set_faults(emulator)  # PagerDuty is back
    recovered = time.monotonic()

    wait_for(lambda: len(received(emulator)) == 10, timeout_s=7.0, what="the backlog drained")
    assert time.monotonic() - recovered < 7.0
    rows = wait_for(lambda: log(context), until=all_sent)
    assert all(r["attempts"] >= 2 for r in rows)  # each row's own count still kept


@pytest.fixture
def short_timeout(context: Context) -> None:
    """PagerDuty's request timeout at 2 s (10 s in production)."""
    context.settings = context.settings.model_copy(update={"pagerduty_timeout_s": 2.0})


def test_rows_held_by_requests_a_hanging_pagerduty_never_answered_drain_once_it_answers(
    context: Context,
    slow_retries: None,
    quick_probes: None,
    short_timeout: None,
    service: str,
    emulator: str,
) -> None:
    # PagerDuty takes each request and never answers: every attempt runs into the timeout,
    # and each probe hangs as long. When it answers again, a probe sent before that still
    # hangs, holding its row: it must not wait out its timeout, then its row's backoff.
    add_connector(context, now=now())
    set_faults(emulator, latency_ms=10_000)
    pools = [f"p{i}" for i in range(10)]
    ingest(context, [pool_offline(f"off-{p}", now() - timedelta(hours=2), p) for p in pools], now())
    wait_for(
        lambda: [r for r in log(context) if r["status"] == "retrying"][9:],
        timeout_s=15.0,
        what="every row tried once and timed out",
    )
    wait_for(
        lambda: [r for r in log(context) if r["attempts"] and r["claimed_until"] is not None],
        what="a probe hanging with its row",
    )

    set_faults(emulator)  # PagerDuty answers again
    recovered = time.monotonic()

    timeout_s = context.settings.pagerduty_timeout_s
    wait_for(lambda: len(received(emulator)) == 10, timeout_s=timeout_s, what="the drain")
    assert time.monotonic() - recovered < timeout_s
    rows = wait_for(lambda: log(context), until=all_sent)
    assert sorted(r["dedup_key"] for r in rows) == sorted(
        f"rbtk:pool-offline:warehouse:{p}" for p in pools
    )


@pytest.fixture
def slow_eu(context: Context) -> Iterator[str]:
    """A second PagerDuty (the EU endpoint) that takes 3 s to answer."""
    with running_emulator(EmulatorConfig(rate_limit=0)) as url:
        set_faults(url, latency_ms=3000)
        context.settings = context.settings.model_copy(
            update={"pagerduty_eu_url": f"{url}/v2/enqueue"}
        )
        yield url


def test_each_answer_is_recorded_as_it_arrives_not_after_the_slowest_row(
    context: Context, slow_eu: str, service: str, emulator: str
) -> None:
    add_connector(context, now=now())
    add_connector(context, "pd-eu", OTHER_KEY, region="eu", now=now())

    ingest(context, [pool_offline("e1", now() - timedelta(hours=2))], now())

    fast = wait_for(
        lambda: [r for r in log(context) if r["status"] == "sent"],
        timeout_s=2.0,
        what="the fast endpoint's answer recorded while the slow one is still sending",
    )
    assert [r["connector_name"] for r in fast] == ["pd-production"]
    slow = [r for r in log(context) if r["connector_name"] == "pd-eu"]
    assert [(r["status"], r["attempts"]) for r in slow] == [("queued", 0)]
    wait_for(lambda: all(r["status"] == "sent" for r in log(context)), what="the slow one too")


def test_rows_a_dead_instance_claimed_are_free_again_within_the_short_lease(
    context: Context,
) -> None:
    add_connector(context, now=now())
    ingest(context, [pool_offline("e1", now() - timedelta(hours=2))], now())
    deliverer = Deliverer(context, cast(aiohttp.ClientSession, None))
    assert deliverer.lease == timedelta(seconds=15)  # RBTK_DELIVERY_LEASE_S's default

    with context.engine.begin() as connection:  # an instance claims the row, then dies
        taken = claim(connection, now=now(), limit=10, lease=deliverer.lease, rates={})
    assert len(taken) == 1

    with context.engine.begin() as connection:
        soon = claim(
            connection,
            now=now() + timedelta(seconds=16),
            limit=10,
            lease=deliverer.lease,
            rates={},
        )
    assert [c.id for c in soon] == [taken[0].id]


@pytest.fixture
def short_leases(context: Context, emulator: str) -> None:
    """Leases of 2.5 s, one send at a time, each answer 0.6 s late: the last of six rows
    waits about 3.6 s, longer than its lease, before it is sent."""
    context.settings = context.settings.model_copy(
        update={
            "delivery_lease_s": 2.5,
            "pagerduty_timeout_s": 1.5,
            "pagerduty_concurrency": 1,
        }
    )
    set_faults(emulator, latency_ms=600)


def test_a_row_held_longer_than_its_lease_is_never_taken_by_another_instance(
    context: Context, short_leases: None, service: str, emulator: str
) -> None:
    add_connector(context, now=now())
    pools = [f"p{i}" for i in range(6)]
    ingest(context, [pool_offline(f"off-{p}", now() - timedelta(hours=2), p) for p in pools], now())
    wait_for(
        lambda: all(r["claimed_until"] or r["status"] == "sent" for r in log(context)),
        what="the rows claimed by the running instance",
    )

    started = time.monotonic()
    while not all(r["status"] == "sent" for r in log(context)):
        with context.engine.begin() as connection:  # another instance, trying all along
            stolen = claim(connection, now=now(), limit=10, lease=LEASE, rates={})
        assert stolen == []
        assert time.monotonic() - started < 15, "not delivered in time"
        time.sleep(0.1)

    assert time.monotonic() - started > 2.5  # the leases did have to be renewed
    assert sorted(k for _, k in received(emulator)) == sorted(
        f"rbtk:pool-offline:warehouse:{p}" for p in pools
    )


def test_pools_back_while_their_triggers_wait_for_the_budget_page_nobody(
    context: Context, emulator: str
) -> None:
    """A burst of five pools offline under a budget of two a minute: two are paged, three
    wait. All five come back: the three waiting never reach PagerDuty, and the two paged get
    their resolves, next in line for the budget."""
    context.settings = context.settings.model_copy(
        update={"pagerduty_rate_per_min": 2, "pagerduty_url": f"{emulator}/v2/enqueue"}
    )
    add_connector(context, now=now())
    pools = [f"pool-{i}" for i in range(5)]
    offline = [pool_offline(f"off-{p}", now() - timedelta(hours=2), p) for p in pools]

    with serving(create_app(context)):
        ingest(context, offline, now())
        wait_for(lambda: len(received(emulator)) == 2, what="two pages, the budget")
        ingest(context, [pool_online(f"on-{p}", now(), p) for p in pools], now())
        time.sleep(0.5)  # a worker pass or two: anything sendable now would be sent

    assert [action for action, _ in received(emulator)] == ["trigger", "trigger"]
    rows = log(context)
    paged = {r["dedup_key"] for r in rows if r["status"] == "sent"}
    held = [r for r in rows if r["status"] == "suppressed"]
    assert len(held) == 6 and not paged & {r["dedup_key"] for r in held}
    assert {r["message"] for r in held} == {CLEARED, NEVER_TRIGGERED}
    waiting = [(r["action"], r["dedup_key"]) for r in rows if r["status"] == "queued"]
    assert sorted(waiting) == sorted(("resolve", key) for key in paged)

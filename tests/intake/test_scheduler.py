"""The scheduler fires thresholds at their due time, with no further event, across restarts."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from rbtk.app import create_app
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.intake.scheduler import Scheduler
from rbtk.store.tables import conditions, outbox
from tests.factories import add_connector, pool_offline
from tests.live import serving
from tests.waiting import wait_for

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)


def queued(context: Context) -> list[tuple[str, str, str]]:
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.action, outbox.c.dedup_key, outbox.c.severity).order_by(outbox.c.id)
        )
        return [(r.action, r.dedup_key, r.severity) for r in rows]


def test_a_due_threshold_fires_on_a_tick_and_is_not_fired_twice(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", T0, "edge", airgapped=True)], T0)
    scheduler = Scheduler(context)
    due = T0 - timedelta(minutes=2) + timedelta(minutes=15)

    early, _ = scheduler.fire_due(now=due - timedelta(seconds=1))
    fired, _ = scheduler.fire_due(now=due)
    again, _ = scheduler.fire_due(now=due + timedelta(minutes=1))

    assert (early, fired, again) == (0, 1, 0)
    assert queued(context) == [("trigger", "rbtk:pool-offline:warehouse:edge", "critical")]


def test_the_scheduler_sleeps_until_the_next_due_time(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", T0, "edge", airgapped=False)], T0)

    with context.engine.connect() as connection:
        due = connection.execute(select(conditions.c.due_at)).scalar_one()
    _, pause = Scheduler(context).fire_due(now=T0)

    assert due == T0 + timedelta(minutes=58)
    assert pause == 5.0  # capped, so a due time another instance writes is seen soon


def test_the_longest_sleep_between_passes_is_a_setting(context: Context) -> None:
    context.settings = context.settings.model_copy(update={"scheduler_pass_s": 0.5})
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", T0, "edge", airgapped=False)], T0)

    assert Scheduler(context).fire_due(now=T0)[1] == 0.5  # due in 58 minutes
    assert Scheduler(context).fire_due(now=T0 + timedelta(minutes=57, seconds=59.8))[1] == (
        pytest.approx(0.2)
    )


def test_a_threshold_fires_on_time_without_another_event(
    context: Context, service: str, emulator: str
) -> None:
    context.settings = context.settings.model_copy(update={"airgapped_offline_minutes": 0.05})
    add_connector(context, now=datetime.now(UTC))
    offline = pool_offline("e1", datetime.now(UTC), "edge")
    offline["data"]["last_heartbeat_at"] = offline["occurred_at"]  # due three seconds later

    ingest(context, [offline], datetime.now(UTC))
    assert httpx.get(f"{emulator}/_inspect/events").json()["events"] == []

    events = wait_for(
        lambda: httpx.get(f"{emulator}/_inspect/events").json()["events"],
        timeout_s=10,
        what="the threshold to page",
    )
    assert [(e["event_action"], e["dedup_key"]) for e in events] == [
        ("trigger", "rbtk:pool-offline:warehouse:edge")
    ]
    assert events[0]["body"]["payload"]["severity"] == "critical"


def test_a_threshold_that_passed_while_the_service_was_down_pages_at_start(
    context: Context, emulator: str
) -> None:
    context.settings = context.settings.model_copy(
        update={"pagerduty_url": f"{emulator}/v2/enqueue"}
    )
    add_connector(context, now=T0)
    # accepted while no workers ran; the threshold is long past when the service starts
    ingest(
        context,
        [pool_offline("e1", datetime.now(UTC) - timedelta(minutes=14), "edge")],
        datetime.now(UTC) - timedelta(minutes=10),
    )

    with serving(create_app(context)):
        events = wait_for(lambda: httpx.get(f"{emulator}/_inspect/events").json()["events"])

    assert [e["dedup_key"] for e in events] == ["rbtk:pool-offline:warehouse:edge"]


def test_a_burst_of_pools_going_offline_wakes_the_scheduler_once(context: Context) -> None:
    """Each pool offline writes a due time 15 minutes on; the scheduler, woken for the first,
    passes then and reads the rest itself. An earlier due time still wakes it, and so does
    any once the time it was woken for has come."""
    wakes: list[int] = []
    context.wake_scheduler = lambda: wakes.append(1)
    ingest(context, [pool_offline("e1", T0, "edge-1", airgapped=True)], T0)
    for minute in range(1, 6):
        at = T0 + timedelta(minutes=minute)
        ingest(context, [pool_offline(f"f{minute}", at, f"pool-{minute}", airgapped=True)], at)
    assert len(wakes) == 1

    ingest(context, [pool_offline("e2", T0 - timedelta(minutes=10), "older", airgapped=True)], T0)
    assert len(wakes) == 2  # due sooner than the first

    later = T0 + timedelta(minutes=20)  # past both due times the scheduler was woken for
    ingest(context, [pool_offline("e3", later, "edge-3", airgapped=True)], later)
    assert len(wakes) == 3

"""Storms: a burst of new incidents on one connector pages one umbrella incident; its members
are held, never lost, and paged one by one if still firing when the storm ends."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from rbtk.admin import connectors
from rbtk.admin.connector_settings import Storm
from rbtk.app import create_app
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.intake.scheduler import Scheduler
from rbtk.outbox.storms import history
from rbtk.outbox.storms.history import MemberState
from rbtk.outbox.storms.umbrella import Census, summarize
from rbtk.store.tables import outbox, storms
from tests.factories import (
    OTHER_KEY,
    add_connector,
    add_route,
    add_window,
    pool_offline,
    pool_online,
    send_everything,
)
from tests.live import serving
from tests.waiting import wait_for

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)
UMBRELLA = "rbtk:storm:pd-production:20260525T020000Z"
HELD = (
    f"held by storm #1: one umbrella incident ({UMBRELLA}) pages for the storm; "
    "sent on its own if still firing when the storm ends"
)


def offline(pools: range, at: datetime, *, project: str = "warehouse") -> list[dict[str, Any]]:
    """Air-gapped pools whose last heartbeat was an hour before `at`: each pages at once."""
    return [
        pool_offline(f"off-{project}-{i}", at - timedelta(hours=1), f"pool-{i}", project=project)
        for i in pools
    ]


def online(pools: range, at: datetime) -> list[dict[str, Any]]:
    return [pool_online(f"on-{i}-{at.timestamp()}", at, f"pool-{i}") for i in pools]


def tick(context: Context, at: datetime) -> None:
    Scheduler(context).fire_due(at)


def log(context: Context, **where: Any) -> list[dict[str, Any]]:
    with context.engine.connect() as connection:
        query = select(outbox).order_by(outbox.c.id)
        for column, value in where.items():
            query = query.where(outbox.c[column] == value)
        return [dict(row._mapping) for row in connection.execute(query)]


def pages(context: Context, status: str = "queued") -> list[tuple[str, str]]:
    """(action, dedup key) of the rows with this status, in the order they were queued."""
    return [(r["action"], r["dedup_key"]) for r in log(context, status=status)]


def umbrella_rows(context: Context) -> list[dict[str, Any]]:
    return log(context, dedup_key=UMBRELLA)


def storm_row(context: Context) -> dict[str, Any]:
    with context.engine.connect() as connection:
        [row] = connection.execute(select(storms))
        return dict(row._mapping)


def pool_key(i: int) -> str:
    return f"rbtk:pool-offline:warehouse:pool-{i}"


def test_past_the_threshold_new_incidents_are_held_and_one_umbrella_pages(
    context: Context,
) -> None:
    add_connector(context, now=T0)

    ingest(context, offline(range(50), T0), T0)
    tick(context, T0)

    assert pages(context) == [("trigger", pool_key(i)) for i in range(20)] + [("trigger", UMBRELLA)]
    held = log(context, status="suppressed")
    assert [r["dedup_key"] for r in held] == [pool_key(i) for i in range(20, 50)]
    assert {r["message"] for r in held} == {HELD}
    [umbrella] = umbrella_rows(context)
    payload = umbrella["body"]["payload"]
    assert umbrella["severity"] == "critical" and umbrella["priority"] == 0
    assert payload["summary"] == "Storm: 30 runner pools offline in warehouse (30 air-gapped)"
    assert (payload["severity"], payload["source"], payload["class"]) == (
        "critical",
        "roboticks",
        "storm",
    )
    details = payload["custom_details"]
    assert details["firing"] == 30
    assert details["by_rule"] == {"airgapped_pool_offline": 30}
    assert details["by_project"] == {"warehouse": 30}
    assert [m["dedup_key"] for m in details["first_members"]] == [
        pool_key(i) for i in sorted(range(20, 50), key=str)[:10]
    ]
    members_page = "http://127.0.0.1:8000/settings/integrations/pagerduty/storms/1"
    assert umbrella["body"]["links"] == [{"href": members_page, "text": "Every member, in rbtk"}]


def test_new_incidents_spread_wider_than_the_window_page_on_their_own(context: Context) -> None:
    add_connector(context, storm=Storm(threshold=20, window_s=60), now=T0)

    for minute in range(3):
        at = T0 + timedelta(minutes=minute, seconds=1)
        ingest(context, offline(range(minute * 15, minute * 15 + 15), at), at)
        tick(context, at)

    assert len(pages(context)) == 45
    assert log(context, status="suppressed") == []


def test_a_connector_with_collapse_off_pages_every_incident(context: Context) -> None:
    add_connector(context, storm=Storm(collapse=False), now=T0)

    ingest(context, offline(range(50), T0), T0)
    tick(context, T0)

    assert pages(context) == [("trigger", pool_key(i)) for i in range(50)]


def test_a_storm_that_grows_tells_its_size_5_s_after_opening_then_at_most_once_a_minute(
    context: Context,
) -> None:
    # As a fleet-wide outage arrives: the umbrella counts what the opening batch held (30),
    # the rest lands a moment later; a storm that clears within the minute must still have
    # told PagerDuty its size.
    add_connector(context, now=T0)
    ingest(context, offline(range(50), T0), T0)
    tick(context, T0)
    send_everything(context, T0)

    soon = T0 + timedelta(seconds=3)
    ingest(context, offline(range(50, 80), soon), soon)
    tick(context, soon)
    assert len(umbrella_rows(context)) == 1  # grown, but the umbrella opened 3 s ago

    tick(context, T0 + timedelta(seconds=5))
    rows = umbrella_rows(context)
    assert [(r["action"], r["status"]) for r in rows] == [
        ("trigger", "sent"),
        ("trigger", "queued"),
    ]
    assert rows[1]["body"]["payload"]["summary"] == (
        "Storm: 60 runner pools offline in warehouse (60 air-gapped)"
    )
    send_everything(context, T0 + timedelta(seconds=5))

    later = T0 + timedelta(seconds=30)
    ingest(context, offline(range(80, 110), later), later)
    tick(context, later)
    assert len(umbrella_rows(context)) == 2  # grown again, but updated less than a minute ago

    a_minute_on = T0 + timedelta(seconds=66)
    tick(context, a_minute_on)
    tick(context, a_minute_on + timedelta(seconds=5))  # nothing new since: no other update

    rows = umbrella_rows(context)
    assert [(r["action"], r["status"]) for r in rows] == [
        ("trigger", "sent"),
        ("trigger", "sent"),
        ("trigger", "queued"),
    ]
    assert rows[2]["body"]["payload"]["summary"] == (
        "Storm: 90 runner pools offline in warehouse (90 air-gapped)"
    )
    assert len(log(context, status="suppressed")) == 90


def test_a_storm_that_ends_before_an_update_told_its_size_tells_pagerduty_before_resolving(
    context: Context, emulator: str
) -> None:
    # Told 60 at 5 s; 30 more join at 30 s, when the next update is not due before 65 s,
    # and every pool is back at 31 s: no update was due while the storm was at its peak.
    context.settings = context.settings.model_copy(
        update={"pagerduty_url": f"{emulator}/v2/enqueue"}
    )
    add_connector(context, now=T0)
    ingest(context, offline(range(50), T0), T0)
    tick(context, T0)
    send_everything(context, T0)
    ingest(context, offline(range(50, 80), T0), T0)
    tick(context, T0 + timedelta(seconds=5))
    send_everything(context, T0 + timedelta(seconds=5))
    grown = T0 + timedelta(seconds=30)
    ingest(context, offline(range(80, 110), grown), grown)
    tick(context, grown)
    back = grown + timedelta(seconds=1)
    ingest(context, online(range(110), back), back)
    for seconds in range(5, 125, 5):  # the scheduler's checks, until the storm has ended
        tick(context, grown + timedelta(seconds=seconds))

    rows = umbrella_rows(context)
    peak = "Storm: 90 runner pools offline in warehouse (90 air-gapped)"
    assert storm_row(context)["ended_at"] is not None
    assert [(r["action"], r["status"]) for r in rows] == [
        ("trigger", "sent"),
        ("trigger", "sent"),
        ("trigger", "queued"),
        ("resolve", "queued"),
    ]
    assert rows[1]["body"]["payload"]["summary"] == peak.replace("90", "60")
    assert rows[2]["body"]["payload"]["summary"] == peak
    assert rows[2]["body"]["payload"]["custom_details"]["peak"] == 90
    # What PagerDuty keeps: the umbrella, resolved, its last word the storm's size.
    with serving(create_app(context)):
        [umbrella] = wait_for(
            lambda: [
                a
                for a in httpx.get(f"{emulator}/_inspect/alerts").json()["alerts"]
                if a["dedup_key"] == UMBRELLA and a["status"] == "resolved"
            ],
            what="the umbrella resolved at the emulator",
        )
    # (the earlier rows were recorded sent here without reaching it)
    assert (umbrella["summary"], umbrella["event_count"]) == (peak, 2)


def test_members_that_clear_while_held_never_reach_pagerduty_and_the_umbrella_resolves(
    context: Context,
) -> None:
    add_connector(context, now=T0)
    ingest(context, offline(range(50), T0), T0)
    tick(context, T0)
    send_everything(context, T0)

    back = T0 + timedelta(seconds=90)
    ingest(context, online(range(50), back), back)
    tick(context, back)  # none firing: quiet from now
    tick(context, back + timedelta(seconds=59))
    assert storm_row(context)["ended_at"] is None  # not quiet for a whole window yet
    tick(context, back + timedelta(seconds=60))

    assert pages(context) == [("resolve", pool_key(i)) for i in range(20)] + [("resolve", UMBRELLA)]
    member_resolves = [r for r in log(context, action="resolve") if r["status"] == "suppressed"]
    assert [r["dedup_key"] for r in member_resolves] == [pool_key(i) for i in range(20, 50)]
    ended = storm_row(context)
    assert (ended["ended_at"], ended["released"], ended["peak"]) == (
        back + timedelta(seconds=60),
        0,
        30,
    )


def test_when_the_storm_ends_members_still_firing_are_paged_one_by_one(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, offline(range(50), T0), T0)
    tick(context, T0)
    send_everything(context, T0)

    back = T0 + timedelta(seconds=30)
    ingest(context, online(range(20, 45), back), back)  # 5 members still firing
    tick(context, back)
    end = back + timedelta(seconds=60)
    tick(context, end)

    queued = log(context, status="queued")
    assert [(r["action"], r["dedup_key"]) for r in queued] == [
        *(("trigger", pool_key(i)) for i in range(45, 50)),
        ("resolve", UMBRELLA),
    ]
    # Each says how things are when it is sent, not when it was held.
    assert queued[0]["body"]["payload"]["summary"] == (
        "Air-gapped pool pool-45 offline for 63 minutes"
    )
    assert storm_row(context)["released"] == 5


def test_a_storm_on_one_connector_leaves_another_connector_paging_as_usual(
    context: Context,
) -> None:
    add_connector(context, "pd-production", now=T0)
    add_connector(context, "pd-lab", OTHER_KEY, is_default=False, now=T0)
    add_route(context, 1, ["pd-lab"], project="lab", now=T0)

    ingest(context, offline(range(50), T0) + offline(range(3), T0, project="lab"), T0)
    tick(context, T0)

    lab = log(context, connector_name="pd-lab")
    assert [(r["action"], r["status"]) for r in lab] == [("trigger", "queued")] * 3
    assert len(log(context, connector_name="pd-production", status="suppressed")) == 30


def test_a_window_holds_a_storm_back_and_its_end_opens_the_storm(context: Context) -> None:
    add_connector(context, now=T0)
    window = add_window(context, "pd-production", T0, T0 + timedelta(minutes=10))

    ingest(context, offline(range(50), T0 + timedelta(minutes=1)), T0 + timedelta(minutes=1))
    tick(context, T0 + timedelta(minutes=1))
    assert pages(context) == []  # held by the window: not a storm, nothing to page

    end = T0 + timedelta(minutes=10)
    tick(context, end)

    umbrella = "rbtk:storm:pd-production:20260525T021000Z"
    first = sorted(range(50), key=str)[:20]  # released in the order they were held
    assert pages(context) == [("trigger", pool_key(i)) for i in first] + [("trigger", umbrella)]
    by_window = [r for r in log(context, status="suppressed") if r["suppression_id"] == window]
    by_storm = [r for r in log(context, status="suppressed") if r["suppression_id"] is None]
    assert len(by_window) == 50 and len(by_storm) == 30


def test_switching_collapse_off_ends_the_storm_and_pages_its_members(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, offline(range(50), T0), T0)
    tick(context, T0)
    send_everything(context, T0)

    later = T0 + timedelta(seconds=10)
    with context.engine.begin() as connection:
        connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            changes={"storm": {"collapse": False}},
            by="test",
            now=later,
        )
    tick(context, later)

    members = sorted(range(20, 50), key=str)
    assert pages(context) == [("trigger", pool_key(i)) for i in members] + [("resolve", UMBRELLA)]


def test_the_summary_counts_each_kind_of_member_and_the_projects() -> None:
    found = Census(
        firing=4_825,
        severity=None,
        by_rule={
            "airgapped_pool_offline": 312,
            "pool_offline": 4_500,
            "evidence_pack_failed": 12,
            "post_release_regression": 1,
        },
        by_project=[(f"project-{i}", 1) for i in range(37)],
        first=[],
    )

    assert summarize(found) == (
        "Storm: 4,812 runner pools offline, 12 evidence packs failed on a release, "
        "1 test failing after a release across 37 projects (312 air-gapped)"
    )


def test_the_storm_log_says_what_became_of_each_member(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, offline(range(30), T0), T0)  # 10 members: pool-20 to pool-29
    tick(context, T0)
    send_everything(context, T0)
    back = T0 + timedelta(seconds=30)
    ingest(context, online(range(20, 25), back), back)
    tick(context, back)

    with context.engine.connect() as connection:
        during = history.members(connection, history.get_storm(connection, 1))
    end = back + timedelta(seconds=60)
    tick(context, end)
    with context.engine.connect() as connection:
        [storm] = history.list_storms(connection)
        after = history.members(connection, storm, after=during[1].row_id, limit=3)

    assert [(m.dedup_key, m.state) for m in during] == [
        *((pool_key(i), MemberState.CLEARED) for i in range(20, 25)),
        *((pool_key(i), MemberState.HELD) for i in range(25, 30)),
    ]
    assert during[5].summary == "Air-gapped pool pool-25 offline for 62 minutes"
    assert [(m.dedup_key, m.state) for m in after] == [
        (pool_key(22), MemberState.CLEARED),
        (pool_key(23), MemberState.CLEARED),
        (pool_key(24), MemberState.CLEARED),
    ]
    with context.engine.connect() as connection:
        ended = history.get_storm(connection, 1)
        states = {m.dedup_key: m.state for m in history.members(connection, ended)}
    assert {k for k, s in states.items() if s is MemberState.PAGED} == {
        pool_key(i) for i in range(25, 30)
    }
    assert (storm.members, storm.held, storm.peak, storm.released, storm.open) == (
        10,
        0,
        10,
        5,
        False,
    )


def test_a_storm_that_would_end_during_a_window_ends_after_it(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, offline(range(50), T0), T0)
    tick(context, T0)
    send_everything(context, T0)
    window_end = T0 + timedelta(minutes=10)
    add_window(context, "pd-production", T0 + timedelta(seconds=10), window_end)

    back = T0 + timedelta(seconds=30)
    ingest(context, online(range(20, 45), back), back)  # 5 members still firing
    tick(context, back)
    tick(context, back + timedelta(seconds=60))  # quiet for a window, but a window holds pages
    assert storm_row(context)["ended_at"] is None
    assert pages(context) == []  # members back while held: nothing to resolve

    tick(context, window_end)

    assert pages(context) == [
        *(("trigger", pool_key(i)) for i in range(45, 50)),
        ("resolve", UMBRELLA),
    ]

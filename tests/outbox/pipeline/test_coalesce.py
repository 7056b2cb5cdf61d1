"""Coalescing: a trigger still waiting unsent is replaced by a later one of its lane, and
cancelled with its resolve; a row a sender ever took is left alone."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.intake.scheduler import Scheduler
from rbtk.outbox.pipeline.coalesce import CLEARED, NEVER_TRIGGERED, OUTRUN, REPLACED
from rbtk.outbox.queue.claim import claim, release_leases
from rbtk.store.tables import outbox
from tests.factories import OTHER_KEY, add_connector, pool_offline, pool_online

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)
AN_HOUR_AGO = T0 - timedelta(hours=1)


def log(context: Context) -> list[tuple[str, str, str, str, str | None]]:
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(
                outbox.c.connector_name,
                outbox.c.action,
                outbox.c.severity,
                outbox.c.status,
                outbox.c.message,
            ).order_by(outbox.c.id)
        )
        return [tuple(r) for r in rows]


def take_everything(context: Context, at: datetime) -> None:
    """A sender claims every row that may go now (as the delivery worker's pass does)."""
    with context.engine.begin() as connection:
        claim(connection, now=at, limit=100, lease=timedelta(seconds=15), rates={})


def test_a_pool_back_before_its_trigger_was_sent_pages_nobody(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", AN_HOUR_AGO, "p1")], T0)

    ingest(context, [pool_online("e2", T0 + timedelta(seconds=5), "p1")], T0)

    assert log(context) == [
        ("pd-production", "trigger", "critical", "suppressed", CLEARED),
        ("pd-production", "resolve", "critical", "suppressed", NEVER_TRIGGERED),
    ]


def test_an_offline_and_online_in_one_request_page_nobody(context: Context) -> None:
    add_connector(context, now=T0)

    ingest(
        context,
        [pool_offline("e1", AN_HOUR_AGO, "p1"), pool_online("e2", T0, "p1")],
        T0,
    )

    assert [row[3] for row in log(context)] == ["suppressed", "suppressed"]


def test_a_trigger_a_sender_took_is_resolved_as_always(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", AN_HOUR_AGO, "p1")], T0)
    take_everything(context, T0)

    ingest(context, [pool_online("e2", T0 + timedelta(seconds=5), "p1")], T0)

    assert [(row[1], row[3]) for row in log(context)] == [
        ("trigger", "queued"),  # being sent: its answer is not recorded yet
        ("resolve", "queued"),
    ]


def test_a_trigger_taken_before_a_crash_is_never_coalesced(context: Context) -> None:
    """The dead sender may have reached PagerDuty before it died: the resolve must go."""
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", AN_HOUR_AGO, "p1")], T0)
    take_everything(context, T0)
    with context.engine.begin() as connection:
        release_leases(connection)  # what a restarted serve does with a dead one's rows

    ingest(context, [pool_online("e2", T0 + timedelta(seconds=5), "p1")], T0)

    assert [(row[1], row[3]) for row in log(context)] == [
        ("trigger", "queued"),
        ("resolve", "queued"),
    ]


def test_a_later_trigger_of_a_lane_replaces_the_one_still_waiting(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", T0, "p1", airgapped=False)], T0)
    Scheduler(context).fire_due(now=T0 + timedelta(minutes=58))  # error, after its threshold

    # It turns out to be air-gapped, offline for 59 minutes: critical, at once.
    ingest(context, [pool_offline("e2", T0, "p1")], T0 + timedelta(minutes=59))

    assert log(context) == [
        ("pd-production", "trigger", "error", "suppressed", REPLACED),
        ("pd-production", "trigger", "critical", "queued", None),
    ]


def test_a_rise_still_waiting_when_the_condition_clears_is_dropped_but_the_resolve_goes(
    context: Context,
) -> None:
    """PagerDuty has the incident from the first trigger: only the rise never reached it."""
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", T0, "p1", airgapped=False)], T0)
    Scheduler(context).fire_due(now=T0 + timedelta(minutes=60))  # error, at its threshold
    take_everything(context, T0 + timedelta(minutes=60))
    with context.engine.begin() as connection:  # PagerDuty took it
        connection.execute(outbox.update().values(status="sent", claimed_until=None))
    ingest(context, [pool_offline("e2", T0, "p1")], T0 + timedelta(minutes=61))  # critical

    ingest(context, [pool_online("e3", T0 + timedelta(minutes=62), "p1")], T0)

    assert log(context) == [
        ("pd-production", "trigger", "error", "sent", None),
        ("pd-production", "trigger", "critical", "suppressed", OUTRUN),
        ("pd-production", "resolve", "critical", "queued", None),
    ]


def test_each_connector_coalesces_only_its_own_lane(context: Context) -> None:
    add_connector(context, "pd-a", now=T0)
    add_connector(context, "pd-b", OTHER_KEY, now=T0)
    ingest(context, [pool_offline("e1", AN_HOUR_AGO, "p1")], T0)
    with context.engine.begin() as connection:  # pd-a's trigger is taken; pd-b's still waits
        (taken,) = claim(connection, now=T0, limit=1, lease=timedelta(seconds=15), rates={})
    assert taken.connector_name == "pd-a"

    ingest(context, [pool_online("e2", T0 + timedelta(seconds=5), "p1")], T0)

    statuses = {(row[0], row[1]): row[3] for row in log(context)}
    assert statuses == {
        ("pd-a", "trigger"): "queued",
        ("pd-a", "resolve"): "queued",
        ("pd-b", "trigger"): "suppressed",
        ("pd-b", "resolve"): "suppressed",
    }

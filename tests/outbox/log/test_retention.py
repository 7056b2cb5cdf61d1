"""Retention: past RBTK_RETENTION_DAYS the delivery log, events, sent digests and ended storms
are pruned, a batch at a time; never a row still to be sent, a row something will still
release, or the latest row of an incident still open."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.intake.scheduler import Scheduler
from rbtk.outbox.log import retention
from rbtk.store.tables import digests, events, outbox, storms
from tests.factories import add_connector, add_window, evidence, send_everything

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=40)  # a prune then drops what T0 wrote, with 30 days' retention


def log(context: Context) -> list[tuple[str, str, str]]:
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.event_id, outbox.c.action, outbox.c.status).order_by(outbox.c.id)
        )
        return [tuple(r) for r in rows]


def event_ids(context: Context) -> list[str]:
    with context.engine.connect() as connection:
        return list(connection.execute(select(events.c.id).order_by(events.c.id)).scalars())


def test_old_deliveries_and_events_go_and_newer_ones_stay(context: Context) -> None:
    add_connector(context, now=T0)
    old = [evidence("old-fail", T0, "v1"), evidence("old-ok", T0, "v1", failed=False)]
    ingest(context, old, T0)
    send_everything(context, T0)
    new = LATER - timedelta(days=1)
    ingest(context, [evidence("new-fail", new, "v2")], new)
    send_everything(context, new)

    pruned = retention.prune(context.engine, before=LATER - timedelta(days=30))

    assert (pruned.outbox, pruned.events, pruned.more) == (2, 2, False)
    assert log(context) == [("new-fail", "trigger", "sent")]
    assert event_ids(context) == ["new-fail"]


def test_a_row_still_to_be_sent_is_kept_however_old(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [evidence("stuck", T0, "v1")], T0)  # never sent: still queued

    retention.prune(context.engine, before=LATER)

    assert log(context) == [("stuck", "trigger", "queued")]


def test_the_latest_row_of_an_incident_still_open_is_kept(context: Context) -> None:
    add_connector(context, now=T0)
    for n, (failed, at) in enumerate([(True, T0), (False, T0), (True, T0 + timedelta(hours=1))]):
        ingest(context, [evidence(f"e{n}", at, "v1", failed=failed)], at)
        send_everything(context, at)

    retention.prune(context.engine, before=LATER)

    # The trigger that reopened it stays in the operator's log; what came before it goes.
    assert log(context) == [("e2", "trigger", "sent")]
    assert event_ids(context) == []


def test_a_trigger_held_by_a_window_not_yet_over_is_kept(context: Context) -> None:
    add_connector(context, now=T0)
    add_window(context, "pd-production", T0, T0 + timedelta(days=90))
    ingest(context, [evidence("held", T0, "v1"), evidence("resolved", T0, "v1", failed=False)], T0)

    retention.prune(context.engine, before=LATER)

    assert [(e, s) for e, _, s in log(context)] == [("held", "suppressed")]


def test_sent_digests_and_ended_storms_go_open_ones_stay(context: Context) -> None:
    with context.engine.begin() as connection:
        connection.execute(
            insert(digests),
            [
                dict(channel_name="ops", opened_at=T0, due_at=T0, sent_at=T0, messages=12),
                dict(channel_name="ops", opened_at=T0, due_at=T0, sent_at=None, messages=None),
            ],
        )
        storm = dict(connector_name="pd", started_at=T0, check_at=T0)
        connection.execute(
            insert(storms),
            [
                storm | {"dedup_key": "ended", "ended_at": T0},
                storm | {"dedup_key": "open", "ended_at": None},
            ],
        )

    pruned = retention.prune(context.engine, before=LATER)

    with context.engine.connect() as connection:
        left_digests = connection.execute(select(digests.c.sent_at)).scalars().all()
        left_storms = connection.execute(select(storms.c.dedup_key)).scalars().all()
    assert (pruned.digests, pruned.storms) == (1, 1)
    assert (left_digests, left_storms) == ([None], ["open"])


def test_a_big_prune_goes_a_batch_at_a_time_and_says_when_more_is_left(context: Context) -> None:
    add_connector(context, now=T0)
    batch = [evidence(f"e{n}", T0, f"v{n}") for n in range(7)]
    ingest(context, batch, T0)
    send_everything(context, T0)
    resolves = [evidence(f"r{n}", T0, f"v{n}", failed=False) for n in range(7)]
    ingest(context, resolves, T0)
    send_everything(context, T0)
    retention_max, retention.MAX_BATCHES = retention.MAX_BATCHES, 2
    try:
        first = retention.prune(context.engine, before=LATER, batch=3)
    finally:
        retention.MAX_BATCHES = retention_max
    second = retention.prune(context.engine, before=LATER, batch=3)

    assert (first.outbox, first.more) == (6, True)
    assert (second.outbox, second.more) == (8, False)
    assert log(context) == []


def test_the_scheduler_prunes_past_the_configured_days_then_waits_minutes(
    context: Context,
) -> None:
    context.settings = context.settings.model_copy(update={"retention_days": 7})
    add_connector(context, now=T0)
    ingest(context, [evidence("old", T0, "v1"), evidence("old-ok", T0, "v1", failed=False)], T0)
    send_everything(context, T0)
    scheduler = Scheduler(context)

    scheduler.prune_due(T0 + timedelta(days=6))
    kept = log(context)
    scheduler.prune_due(T0 + timedelta(days=7, minutes=1))

    assert len(kept) == 2
    assert log(context) == []
    assert scheduler.prune_at == T0 + timedelta(days=7, minutes=6)  # the next pass

"""Ingest: events stored, conditions advanced and notifications queued in one transaction."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rbtk.context import Context
from rbtk.intake.ingest import Acceptance, ingest
from rbtk.store.tables import conditions, events, outbox
from tests.factories import add_connector, event, pool_offline, pool_online

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)


def outbox_rows(context: Context) -> list[tuple[str, str, str, str]]:
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(
                outbox.c.connector_name, outbox.c.action, outbox.c.dedup_key, outbox.c.severity
            ).order_by(outbox.c.id)
        )
        return [tuple(r) for r in rows]


def test_a_pool_past_its_threshold_is_queued_as_a_critical_trigger(context: Context) -> None:
    add_connector(context, now=T0)

    result = ingest(context, [pool_offline("e1", T0 - timedelta(minutes=15))], T0)

    assert [(i.id, i.status) for i in result.items] == [("e1", Acceptance.ACCEPTED)]
    assert outbox_rows(context) == [
        ("pd-production", "trigger", "rbtk:pool-offline:warehouse:onprem-airgapped", "critical")
    ]


def test_a_repeated_event_id_is_accepted_and_ignored(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", T0 - timedelta(minutes=20))], T0)

    again = ingest(context, [pool_offline("e1", T0 - timedelta(minutes=20))], T0)
    within = ingest(context, [pool_online("e2", T0), pool_online("e2", T0)], T0)

    assert [i.status for i in again.items] == [Acceptance.DUPLICATE]
    assert [i.status for i in within.items] == [Acceptance.ACCEPTED, Acceptance.DUPLICATE]
    assert [row[1] for row in outbox_rows(context)] == ["trigger", "resolve"]


def test_a_bad_event_in_a_batch_costs_its_valid_siblings_nothing(context: Context) -> None:
    add_connector(context, now=T0)
    bad = event("e2", "runner_pool.offline", T0, pool_type="hosted")

    result = ingest(context, [pool_offline("e1", T0 - timedelta(hours=2)), bad, "nope"], T0)

    assert [(i.index, i.id, i.status) for i in result.items] == [
        (0, "e1", Acceptance.ACCEPTED),
        (1, "e2", Acceptance.REJECTED),
        (2, None, Acceptance.REJECTED),
    ]
    assert result.items[1].errors == ["data.pool_name: is required"]
    assert result.items[2].errors == ["event: must be a JSON object, got str"]
    with context.engine.connect() as connection:
        assert connection.execute(select(events.c.id)).scalars().all() == ["e1"]
    assert len(outbox_rows(context)) == 1


def test_a_pool_offline_below_its_threshold_stores_a_due_time_and_queues_nothing(
    context: Context,
) -> None:
    add_connector(context, now=T0)

    ingest(context, [pool_offline("e1", T0)], T0)

    with context.engine.connect() as connection:
        due = connection.execute(select(conditions.c.due_at)).scalar_one()
    # offline since the last heartbeat, two minutes before the event
    assert due == T0 - timedelta(minutes=2) + timedelta(minutes=15)
    assert outbox_rows(context) == []


def test_a_flap_shorter_than_the_threshold_leaves_nothing_behind(context: Context) -> None:
    add_connector(context, now=T0)

    ingest(context, [pool_offline("e1", T0), pool_online("e2", T0 + timedelta(minutes=5))], T0)

    with context.engine.connect() as connection:
        assert connection.execute(select(conditions.c.key)).all() == []
    assert outbox_rows(context) == []


def test_a_trigger_goes_only_to_connectors_with_that_rule_on(context: Context) -> None:
    add_connector(context, "pd-production", now=T0)
    add_connector(context, "pd-compliance", "f" * 32, rules=frozenset(), now=T0)

    ingest(context, [pool_offline("e1", T0 - timedelta(hours=2))], T0)

    assert [row[0] for row in outbox_rows(context)] == ["pd-production"]


def test_events_without_any_connector_are_kept_and_page_nobody(context: Context) -> None:
    result = ingest(context, [pool_offline("e1", T0 - timedelta(hours=2))], T0)

    assert [item.status for item in result.items] == [Acceptance.ACCEPTED]
    assert outbox_rows(context) == []

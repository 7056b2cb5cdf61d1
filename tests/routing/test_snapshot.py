"""Routing configuration kept in memory: any write to it, through any path or instance, is
seen by the next event; while nothing changes, it is not read again."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from rbtk.admin import runbooks
from rbtk.context import Context, open_context
from rbtk.intake.ingest import ingest
from rbtk.store.tables import CONFIG_TABLES, config_version, connectors, outbox
from tests.channels.test_notify import add_rule, add_slack
from tests.factories import OTHER_KEY, add_connector, add_route, add_window, pool_offline

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)
RUNBOOK = "https://wiki.roboticks.test/runbooks/airgapped-pool-offline"


def paged(context: Context) -> list[tuple[str, str]]:
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.connector_name, outbox.c.status).order_by(outbox.c.id)
        )
        return [(r.connector_name, r.status) for r in rows]


def offline(number: int) -> dict[str, object]:
    return pool_offline(f"e{number}", T0 - timedelta(minutes=20), f"pool-{number}")


def test_a_connector_added_after_the_first_event_gets_the_next_one(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [offline(1)], T0)

    add_connector(context, "pd-second", OTHER_KEY, now=T0)
    ingest(context, [offline(2)], T0)

    assert paged(context) == [
        ("pd-production", "queued"),
        ("pd-production", "queued"),
        ("pd-second", "queued"),
    ]


def test_a_runbook_set_after_the_first_event_is_linked_from_the_next_trigger(
    context: Context,
) -> None:
    add_connector(context, now=T0)
    ingest(context, [offline(1)], T0)

    with context.engine.begin() as connection:
        runbooks.set_url(connection, rule="airgapped_pool_offline", url=RUNBOOK, by="test", now=T0)
    ingest(context, [offline(2)], T0)

    with context.engine.connect() as connection:
        bodies = [row.body for row in connection.execute(select(outbox).order_by(outbox.c.id))]
    assert [[link["text"] for link in body["links"]] for body in bodies] == [
        ["View pool in Roboticks"],
        ["View pool in Roboticks", "Runbook: airgapped_pool_offline"],
    ]
    assert bodies[1]["links"][1]["href"] == RUNBOOK


def test_a_window_opened_by_another_instance_holds_the_next_event(
    context: Context, settings: object
) -> None:
    add_connector(context, now=T0)
    ingest(context, [offline(1)], T0)
    other = open_context(context.settings)  # a second instance on the same database
    try:
        add_window(other, "pd-production", T0 - timedelta(minutes=1), T0 + timedelta(hours=1))
    finally:
        other.engine.dispose()

    ingest(context, [offline(2)], T0)

    assert paged(context) == [("pd-production", "queued"), ("pd-production", "suppressed")]


def test_a_change_made_by_hand_in_sql_is_seen_too(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [offline(1)], T0)
    with context.engine.begin() as connection:
        connection.execute(update(connectors).values(rules=[]))  # every rule switched off

    ingest(context, [offline(2)], T0)

    assert paged(context) == [("pd-production", "queued")]


def test_while_nothing_changes_the_configuration_is_not_read_again(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [offline(1)], T0)
    read: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        read.extend(t.name for t in CONFIG_TABLES if f"FROM {t.name}" in statement)

    event.listen(context.engine, "before_cursor_execute", seen)
    try:
        for number in range(2, 6):
            ingest(context, [offline(number)], T0)
    finally:
        event.remove(context.engine, "before_cursor_execute", seen)

    assert read == []
    assert len(paged(context)) == 5


@pytest.mark.parametrize(
    ("table", "key"), [(t.name, next(iter(t.primary_key.columns)).name) for t in CONFIG_TABLES]
)
def test_every_write_to_a_configuration_table_moves_the_version(
    context: Context, table: str, key: str
) -> None:
    # A migration that rebuilds one of these tables (SQLite batch mode) drops its triggers.
    add_connector(context, now=T0)
    add_route(context, 1, ["pd-production"], project="warehouse", now=T0)
    add_window(context, "pd-production", T0, T0 + timedelta(hours=1))
    add_slack(context, "http://127.0.0.1:9/hook")
    add_rule(context, 1, ["ci-slack"], project="warehouse")
    with context.engine.begin() as connection:
        runbooks.set_url(connection, rule="pool_offline", url=RUNBOOK, by="test", now=T0)
    with context.engine.begin() as connection:
        before = connection.execute(select(config_version.c.version)).scalar_one()
        connection.exec_driver_sql(f"UPDATE {table} SET {key} = {key}")
        after = connection.execute(select(config_version.c.version)).scalar_one()

    assert after > before

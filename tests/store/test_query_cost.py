"""A /metrics scrape, the stuck-page check and a retention batch cost the same over ten rows
or ten million: no query they run reads the whole delivery log (each database's own plan
says so)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert

from rbtk import metrics
from rbtk.context import Context
from rbtk.outbox.log import retention, undelivered
from rbtk.store.db import is_postgres
from rbtk.store.tables import outbox
from tests.api.test_operations import pending_row


def statements(engine: Engine, run: Any, table: str = "outbox") -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if table in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def plans(engine: Engine, queries: list[tuple[str, Any]]) -> list[str]:
    """Each query's plan as text. PostgreSQL is told to avoid sequential scans, so one that
    remains means no index could serve the query."""
    found = []
    with engine.connect() as connection:
        if is_postgres(engine):
            connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in queries:
            explain = "EXPLAIN " if is_postgres(engine) else "EXPLAIN QUERY PLAN "
            rows = connection.exec_driver_sql(explain + statement, parameters).all()
            found.append("\n".join(str(r[-1] if not is_postgres(engine) else r[0]) for r in rows))
    return found


def whole_table_reads(plan: str) -> bool:
    return "SCAN outbox" in plan or "Seq Scan on outbox" in plan


def test_a_scrape_reads_only_rows_still_to_be_sent(context: Context) -> None:
    queries = statements(context.engine, lambda: metrics.render(context.engine))

    found = plans(context.engine, queries)
    print("\n\n".join(found))  # the plans quoted in the change's report

    assert len(found) == 3
    assert [p for p in found if whole_table_reads(p)] == []


def test_a_scrape_reads_only_storms_still_open(context: Context) -> None:
    # Storms are kept for the retention period: a scrape must not count every ended one.
    queries = statements(context.engine, lambda: metrics.render(context.engine), "storms")

    [plan] = plans(context.engine, queries)

    assert "ix_storms_open" in plan


def test_the_stuck_page_check_reads_only_rows_still_to_be_sent(context: Context) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with context.engine.begin() as connection:
        connection.execute(insert(outbox), [pending_row(1, "retrying", an_hour_ago, "pd")])

    def check() -> None:
        with context.engine.connect() as connection:
            undelivered.stuck(connection, now=datetime.now(UTC), after=timedelta(minutes=5))

    found = plans(context.engine, statements(context.engine, check))

    assert len(found) == 2  # the oldest, and how many
    assert [p for p in found if whole_table_reads(p)] == []


def test_a_retention_batch_reads_old_rows_in_order_not_the_whole_log(context: Context) -> None:
    def prune() -> None:
        retention.prune(context.engine, before=datetime.now(UTC))

    selects = [q for q in statements(context.engine, prune) if q[0].startswith("SELECT")]
    found = plans(context.engine, selects)

    assert found and [p for p in found if whole_table_reads(p)] == []
    # Sorting would mean reading every old row first, then taking the batch.
    assert [p for p in found if "TEMP B-TREE FOR ORDER BY" in p] == []


# SQLite only: its plans are fixed by the statistics migration 0018 ships, so an empty test
# database shows the plan a full log gets; PostgreSQL plans from its own statistics of the
# rows it holds (bench figures at 400,000 rows are in the change's report).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_delivery_log_page_reads_a_page_not_the_whole_log(context: Context) -> None:
    """The page's rows are found in id order (the table's own, or an index on what the
    filter names), never by reading every row of the channel and sorting them: the page cost
    1.2 s at 400,000 rows when SQLite read `channel = 'pagerduty'` through the budget index.
    A dedup key or an event id has a few rows: those are sorted."""
    from rbtk.outbox.log import delivery_log

    def pages() -> None:
        with context.engine.connect() as connection:
            delivery_log.query(connection)
            delivery_log.query(connection, before_id=1_000)
            delivery_log.query(connection, dedup_key="rbtk:pool-offline:warehouse:p1")
            delivery_log.query(connection, status="failed")
            delivery_log.query(connection, event_id="e1")

    selects = [q for q in statements(context.engine, pages) if "ORDER BY" in q[0]]
    found = plans(context.engine, selects)
    print("\n\n".join(found))

    unfiltered, older, by_key, by_status, by_event = found
    assert (unfiltered, older) == (
        "SCAN outbox",
        "SEARCH outbox USING INTEGER PRIMARY KEY (rowid<?)",
    )
    assert "dedup_key=?" in by_key
    assert by_status == "SEARCH outbox USING INDEX ix_outbox_status (status=?)"
    assert "ix_outbox_event (event_id=?)" in by_event


# SQLite only, as above: 0018's statistics make the plan a full queue gets.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_queues_claim_finds_each_rows_predecessors_through_the_lane_indexes(
    context: Context,
) -> None:
    """A claim asks, for each due row, whether an older row of its lane is unfinished: that
    must be a seek on the lane's index, not a read of every row of a status (the claim's
    cost grew with the queue when SQLite chose the status index for it)."""
    from rbtk.outbox.queue.claim import claim

    def claiming() -> None:
        with context.engine.begin() as connection:
            claim(
                connection,
                now=datetime.now(UTC),
                limit=500,
                lease=timedelta(seconds=15),
                rates={"pagerduty": 120},
            )

    [plan] = [
        p
        for p in plans(context.engine, statements(context.engine, claiming))
        if "earlier_by_connector_name" in p or "EXISTS" in p
    ]
    print(plan)

    assert "SEARCH earlier_by_connector_name USING INDEX ix_outbox_lane" in plan
    assert "SEARCH earlier_by_channel_name USING INDEX ix_outbox_channel_lane" in plan
    assert "SCAN earlier" not in plan


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_log_page_by_dedup_key_reads_that_keys_rows_newest_first_on_postgresql(
    context: Context,
) -> None:
    """Not the whole log by id until a page of the key's rows is found (140 ms at 400,000
    rows, growing with the log): the key's own index, in id order, stopped at the page."""
    from rbtk.outbox.log import delivery_log

    def page() -> None:
        with context.engine.connect() as connection:
            delivery_log.query(connection, dedup_key="rbtk:pool-offline:warehouse:p1")

    [plan] = [p for p in plans(context.engine, statements(context.engine, page)) if "Limit" in p]
    print(plan)

    assert "Index Scan Backward using ix_outbox_dedup_key on outbox" in plan
    assert "Sort" not in plan

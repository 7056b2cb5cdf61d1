"""SQLite: tell the query planner the delivery log's shape, so its plans do not depend on
how full the log is

Without statistics SQLite takes any equality as selective: the delivery log's
`channel = 'pagerduty' ORDER BY id DESC LIMIT 51` read every row through the budget index
and sorted them (1.2 s at 400,000 rows), and a filter by status counted through the same
index. These rows of `sqlite_stat1` (SQLite's documented way to fix a plan) describe a
large log: one channel holds most rows, a connector many, a dedup key few, an event id
one or two; a status is described as selective, since the statuses asked for by delivery,
/metrics and the stuck check (queued, retrying) are the rare ones. Never refreshed by rbtk
(no ANALYZE runs), so plans stay the same whatever the log holds; PostgreSQL keeps its own
statistics.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# index: rows in the table, then rows per distinct value of each leading column
SHAPE = {
    "ix_outbox_budget": "1000000 500000 1000 1000",
    "ix_outbox_channel_created": "1000000 500000 1",
    "ix_outbox_channel_lane": "1000000 500000 5 1",
    "ix_outbox_created": "1000000 1",
    "ix_outbox_digest": "1000000 500000 1",
    "ix_outbox_event": "1000000 2",
    "ix_outbox_lane": "1000000 300000 5 1",  # a lane: the queue asks for a row's predecessors
    "ix_outbox_pending": "10000 1 1",
    "ix_outbox_status": "1000000 100 1",  # as if selective: the pending few are what is asked for
    "ix_outbox_storm": "1000000 500000 1",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("ANALYZE sqlite_schema")  # creates sqlite_stat1 if it is not there
    op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'outbox'")
    for index, stat in SHAPE.items():
        op.execute(
            f"INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('outbox', '{index}', '{stat}')"
        )
    op.execute("ANALYZE sqlite_schema")  # reloads the statistics into this connection


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'outbox'")

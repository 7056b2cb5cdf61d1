"""outbox (dedup_key, id): the delivery log filtered by a dedup key reads that key's rows,
newest first, and stops at the page; without it PostgreSQL walked the whole log by id until
it had a page of one key's rows (140 ms at 400,000 rows, growing with the log)

On SQLite the index is described to the planner as 0018 describes the others: a dedup key
has a few rows, more than one connector's lane of it (the queue's lane indexes stay its
choice for a row's predecessors).

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAT = "1000000 10 1"  # rows in the table, rows per dedup key, per (dedup key, id)


def upgrade() -> None:
    op.create_index("ix_outbox_dedup_key", "outbox", ["dedup_key", "id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "INSERT INTO sqlite_stat1 (tbl, idx, stat) "
            f"VALUES ('outbox', 'ix_outbox_dedup_key', '{STAT}')"
        )
        op.execute("ANALYZE sqlite_schema")  # reloads the statistics into this connection


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DELETE FROM sqlite_stat1 WHERE idx = 'ix_outbox_dedup_key'")
    op.drop_index("ix_outbox_dedup_key", table_name="outbox")

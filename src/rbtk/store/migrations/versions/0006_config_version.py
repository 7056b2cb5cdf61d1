"""config_version: one counter that every write to routing configuration moves

Fan-out reads connectors, routing rules, suppression windows, chat channels and chat rules
for every event. They are kept in memory (rbtk.routing.snapshot) and read again only when
this counter moved. Database triggers move it, in the writing transaction, so no writer can
forget to and every instance on one database sees the change.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A migration keeps its own copy of what it touches (rbtk.store.tables.CONFIG_TABLES now).
CONFIG_TABLES = ("connectors", "routing_rules", "suppressions", "notify_channels", "notify_rules")
BUMP = "UPDATE config_version SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO config_version (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION rbtk_config_changed() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in CONFIG_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_config_changed "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION rbtk_config_changed()"
            )
    else:
        for table in CONFIG_TABLES:
            for change in ("insert", "update", "delete"):
                op.execute(
                    f"CREATE TRIGGER {table}_{change}_config_changed AFTER {change.upper()} "
                    f"ON {table} BEGIN {BUMP}; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in CONFIG_TABLES:
            op.execute(f"DROP TRIGGER {table}_config_changed ON {table}")
        op.execute("DROP FUNCTION rbtk_config_changed()")
    else:
        for table in CONFIG_TABLES:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{change}_config_changed")
    op.drop_table("config_version")

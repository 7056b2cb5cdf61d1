"""storms: one umbrella incident per connector for a fleet-wide burst of new incidents

Connectors gain their storm settings (on, 20 new incidents within 60 s); incidents say when
their first trigger was queued (what detection counts) and which storm holds them, as do the
outbox rows of held triggers; `storms` keeps each storm and its umbrella. Opening or ending a
storm moves config_version, so fan-out, which keeps the open storms in memory, reads them
again.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rbtk.store.tables import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE config_version SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    # Plain ALTERs, no batch: rebuilding `connectors` on SQLite would drop its triggers (0006).
    for name, default in (("storm_threshold", "20"), ("storm_window_s", "60")):
        op.add_column(
            "connectors",
            sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text(default)),
        )
    op.add_column(
        "connectors",
        sa.Column("storm_collapse", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    )
    op.add_column("incidents", sa.Column("triggered_at", UTCDateTime(timezone=True)))
    op.add_column("incidents", sa.Column("storm_id", sa.Integer()))
    op.create_index("ix_incidents_triggered", "incidents", ["connector_id", "triggered_at"])
    op.create_index("ix_incidents_storm", "incidents", ["storm_id"])
    op.add_column("outbox", sa.Column("storm_id", sa.Integer()))
    op.create_index("ix_outbox_storm", "outbox", ["storm_id", "id"])
    op.create_table(
        "storms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("connector_name", sa.String(length=64), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("check_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("umbrella_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("umbrella_summary", sa.Text(), nullable=True),
        sa.Column("umbrella_severity", sa.String(length=16), nullable=True),
        sa.Column("peak", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("quiet_since", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("released", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["connector_id"], ["connectors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_storms_open", "storms", ["ended_at", "check_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER storms_config_changed "
            "AFTER INSERT OR DELETE OR UPDATE OF ended_at ON storms "
            "FOR EACH STATEMENT EXECUTE FUNCTION rbtk_config_changed()"
        )
    else:
        for name, change in (
            ("insert", "INSERT"),
            ("delete", "DELETE"),
            ("end", "UPDATE OF ended_at"),
        ):
            op.execute(
                f"CREATE TRIGGER storms_{name}_config_changed AFTER {change} "
                f"ON storms BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER storms_config_changed ON storms")
    else:
        for name in ("insert", "delete", "end"):
            op.execute(f"DROP TRIGGER storms_{name}_config_changed")
    op.drop_index("ix_storms_open", table_name="storms")
    op.drop_table("storms")
    op.drop_index("ix_outbox_storm", table_name="outbox")
    op.drop_column("outbox", "storm_id")
    op.drop_index("ix_incidents_storm", table_name="incidents")
    op.drop_index("ix_incidents_triggered", table_name="incidents")
    op.drop_column("incidents", "storm_id")
    op.drop_column("incidents", "triggered_at")
    for name in ("storm_collapse", "storm_window_s", "storm_threshold"):
        op.drop_column("connectors", name)

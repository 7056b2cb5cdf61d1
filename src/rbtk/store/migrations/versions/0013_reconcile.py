"""reconcile: a connector's PagerDuty REST API key and service, and what each pass found

- connectors: the REST API key (encrypted, like the integration key), the service id, whether
  a lane resolved by hand in PagerDuty is paged again, when a test event was last seen
  arrive on the service (verified end to end), and when the health channels were last told
  it is overdue for that.
- incidents: when reconcile found a lane no longer open in PagerDuty (resolved there by hand).
- reconcile_runs: one summary per pass (found, fixed, left, the error), newest shown.
- reconcile_due: when each connector's next periodic pass is due; the instance whose
  conditional update moves it runs the pass.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rbtk.store.tables import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTERs, no batch: rebuilding `connectors` on SQLite would drop its triggers (0006).
    for column in (
        sa.Column("rest_key", sa.LargeBinary(), nullable=True),
        sa.Column("rest_key_last4", sa.String(length=4), nullable=True),
        sa.Column("service_id", sa.String(length=32), nullable=True),
        sa.Column(
            "repage_resolved_by_hand", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
        sa.Column("verified_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_urgency", sa.String(length=8), nullable=True),
        sa.Column("verify_reminded_at", UTCDateTime(timezone=True), nullable=True),
    ):
        op.add_column("connectors", column)
    op.add_column(
        "incidents",
        sa.Column("resolved_in_pagerduty_at", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "reconcile_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("connector_name", sa.String(length=64), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["connectors.id"],
            name=op.f("fk_reconcile_runs_connector_id_connectors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconcile_runs")),
    )
    op.create_index(
        "ix_reconcile_runs_connector", "reconcile_runs", ["connector_name", "id"], unique=False
    )
    op.create_index("ix_reconcile_runs_finished", "reconcile_runs", ["finished_at"], unique=False)
    op.create_table(
        "reconcile_due",
        sa.Column("connector_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["connectors.id"],
            name=op.f("fk_reconcile_due_connector_id_connectors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connector_id", name=op.f("pk_reconcile_due")),
    )


def downgrade() -> None:
    op.drop_table("reconcile_due")
    op.drop_index("ix_reconcile_runs_finished", table_name="reconcile_runs")
    op.drop_index("ix_reconcile_runs_connector", table_name="reconcile_runs")
    op.drop_table("reconcile_runs")
    op.drop_column("incidents", "resolved_in_pagerduty_at")
    for column in (
        "verify_reminded_at",
        "verified_urgency",
        "verified_at",
        "repage_resolved_by_hand",
        "service_id",
        "rest_key_last4",
        "rest_key",
    ):
        op.drop_column("connectors", column)

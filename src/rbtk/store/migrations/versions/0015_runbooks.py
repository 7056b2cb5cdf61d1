"""runbooks: a runbook URL per paging rule, linked from every incident the rule opens

Configuration that fan-out reads from memory: writes move config_version (as migration 0006
set up for the other configuration tables), so rbtk.routing.snapshot reads them again.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rbtk.store.tables import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE config_version SET version = version + 1 WHERE id = 1"
CHANGES = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        "runbooks",
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_runbooks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER runbooks_config_changed "
            "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON runbooks "
            "FOR EACH STATEMENT EXECUTE FUNCTION rbtk_config_changed()"
        )
    else:
        for change in CHANGES:
            op.execute(
                f"CREATE TRIGGER runbooks_{change}_config_changed AFTER {change.upper()} "
                f"ON runbooks BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER runbooks_config_changed ON runbooks")
    else:
        for change in CHANGES:
            op.execute(f"DROP TRIGGER runbooks_{change}_config_changed")
    op.drop_table("runbooks")

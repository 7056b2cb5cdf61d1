"""per-lane paging: the rules each condition fired, the severity each lane was sent

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conditions") as batch:
        batch.add_column(sa.Column("fired", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("severity", sa.String(length=16), nullable=True))
    # What was fired before: the one rule a condition remembered; each lane was paged at
    # its condition's severity (an upper bound under a cap, so nothing is paged twice).
    bind = op.get_bind()
    conditions = sa.table(
        "conditions",
        sa.column("key", sa.String),
        sa.column("rule", sa.String),
        sa.column("severity", sa.String),
        sa.column("fired", sa.JSON),
    )
    incidents = sa.table(
        "incidents", sa.column("dedup_key", sa.String), sa.column("severity", sa.String)
    )
    rows = bind.execute(
        sa.select(conditions.c.key, conditions.c.rule, conditions.c.severity).where(
            conditions.c.rule.is_not(None)
        )
    ).all()
    for key, rule, severity in rows:
        bind.execute(sa.update(conditions).where(conditions.c.key == key).values(fired=[rule]))
        bind.execute(
            sa.update(incidents).where(incidents.c.dedup_key == key).values(severity=severity)
        )
    with op.batch_alter_table("conditions") as batch:
        batch.alter_column("fired", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("severity")
    with op.batch_alter_table("conditions") as batch:
        batch.drop_column("fired")

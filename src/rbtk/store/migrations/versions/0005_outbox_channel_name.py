"""outbox rows name a PagerDuty connector (connector_name) or a chat channel (channel_name)

`connector_name` held either, so a chat channel named like a connector was counted as that
connector's delivery. Chat rows (every channel but "pagerduty") move their name over.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The kind as 0001-0004 stored it; a migration keeps its own copy of what it reads.
PAGERDUTY = "pagerduty"

outbox = sa.table(
    "outbox",
    sa.column("channel", sa.String),
    sa.column("connector_name", sa.String),
    sa.column("channel_name", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("channel_name", sa.String(length=64), nullable=True))
        batch.alter_column("connector_name", existing_type=sa.String(length=64), nullable=True)
    op.get_bind().execute(
        sa.update(outbox)
        .where(outbox.c.channel != PAGERDUTY)
        .values(channel_name=outbox.c.connector_name, connector_name=None)
    )
    with op.batch_alter_table("outbox") as batch:
        batch.create_index("ix_outbox_channel_lane", ["channel_name", "dedup_key", "id"])
        batch.create_check_constraint(
            "ck_outbox_one_name", "(connector_name IS NULL) <> (channel_name IS NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("ck_outbox_one_name", type_="check")
        batch.drop_index("ix_outbox_channel_lane")
    op.get_bind().execute(
        sa.update(outbox)
        .where(outbox.c.connector_name.is_(None))
        .values(connector_name=outbox.c.channel_name)
    )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("channel_name")
        batch.alter_column("connector_name", existing_type=sa.String(length=64), nullable=False)

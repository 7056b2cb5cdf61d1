"""digests: a burst of chat messages to one channel goes out as one message a minute

`digests` keeps each channel's digest while it collects and once sent; outbox rows say which
digest carries them, and are counted per channel by creation time.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rbtk.store.tables import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("channel_name", sa.String(length=64), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("messages", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["notify_channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_digests_due", "digests", ["sent_at", "due_at"])
    op.add_column("outbox", sa.Column("digest_id", sa.Integer()))
    op.create_index("ix_outbox_digest", "outbox", ["digest_id", "id"])
    op.create_index("ix_outbox_channel_created", "outbox", ["channel_name", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_channel_created", table_name="outbox")
    op.drop_index("ix_outbox_digest", table_name="outbox")
    op.drop_column("outbox", "digest_id")
    op.drop_index("ix_digests_due", table_name="digests")
    op.drop_table("digests")

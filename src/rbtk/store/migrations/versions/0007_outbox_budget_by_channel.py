"""the budget index starts with the channel: only channels with a budget are counted

A claim counts the attempts of the last minute per destination, but only for channels that
have a budget; with the channel first, the rows of a channel without one (PagerDuty with its
budget lifted, say) are never read.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_outbox_budget", table_name="outbox")
    op.create_index("ix_outbox_budget", "outbox", ["channel", "last_attempt_at", "key_fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_outbox_budget", table_name="outbox")
    op.create_index("ix_outbox_budget", "outbox", ["last_attempt_at", "key_fingerprint"])

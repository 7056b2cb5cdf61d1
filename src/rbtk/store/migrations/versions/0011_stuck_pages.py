"""health: whether rbtk has said it cannot page

One row: since when pages have been stuck undelivered, as last told to the chat channels
marked "rbtk health" (NULL while nothing is stuck). Told once per episode, whichever
instance notices first: the one whose conditional update sets it (rbtk.outbox.log.stuck).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rbtk.store.tables import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "health",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stuck_since", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO health (id) VALUES (1)")


def downgrade() -> None:
    op.drop_table("health")

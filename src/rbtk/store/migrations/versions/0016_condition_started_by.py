"""conditions.started_by: the event that started a condition, so a page a threshold tick
sends later is recorded with that event (it paged) and its rows link to it

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conditions", sa.Column("started_by", sa.String(length=255)))


def downgrade() -> None:
    op.drop_column("conditions", "started_by")

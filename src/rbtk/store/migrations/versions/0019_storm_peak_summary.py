"""storms.peak_summary: the umbrella's summary when the storm was largest, so the storm's end
can tell PagerDuty its size (a trigger update just before the resolve) when the last update
sent counted fewer: updates go at most once a minute, and a storm may end in between

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("storms", sa.Column("peak_summary", sa.Text()))


def downgrade() -> None:
    op.drop_column("storms", "peak_summary")

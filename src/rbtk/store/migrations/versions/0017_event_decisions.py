"""events.decisions: each connector's decision on the pages an event started, as data
(connector, rule, dedup key, sent / held / left out, the pipeline stage and its reason), so
the views read what fan-out decided rather than parse its reasons

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("events", sa.Column("decisions", sa.JSON()))


def downgrade() -> None:
    op.drop_column("events", "decisions")

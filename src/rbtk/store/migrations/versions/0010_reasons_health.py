"""events keep why they did or did not page; chat channels may carry rbtk's own health; a
window ended early says by whom

`events.paged` and `events.reasons` are written as the event is applied (NULL for events
stored before); `ix_events_received` lists recent events and finds those past retention;
`ix_outbox_event` finds the rows an event queued; delivery rows name their project, so the
delivery log filters by it.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("events", sa.Column("paged", sa.Boolean()))
    op.add_column("events", sa.Column("reasons", sa.JSON()))
    op.create_index("ix_events_received", "events", ["received_at", "id"])
    op.create_index("ix_outbox_event", "outbox", ["event_id"])
    op.add_column("outbox", sa.Column("project_slug", sa.String(length=128)))
    op.add_column(
        "notify_channels",
        sa.Column("health", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("suppressions", sa.Column("ended_by", sa.String(length=128)))


def downgrade() -> None:
    op.drop_column("suppressions", "ended_by")
    op.drop_column("notify_channels", "health")
    op.drop_column("outbox", "project_slug")
    op.drop_index("ix_outbox_event", table_name="outbox")
    op.drop_index("ix_events_received", table_name="events")
    op.drop_column("events", "reasons")
    op.drop_column("events", "paged")

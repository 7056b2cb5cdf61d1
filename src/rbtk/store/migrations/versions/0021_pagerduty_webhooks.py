"""pagerduty webhooks: each connector's subscription and its signing secrets, the deliveries
received, and PagerDuty's side of each incident as they tell it

- pagerduty_webhooks: the subscription's id, URL and secret (encrypted), and the secret
  before it while PagerDuty may still sign with either.
- pagerduty_webhook_events: every delivery, raw, stored before it is answered; one per
  X-Webhook-Id and connector; `processed_at` once applied.
- incidents: PagerDuty's status of the lane, who set it and when.

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rbtk.store.tables import UTCDateTime

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for column in (
        sa.Column("pagerduty_status", sa.String(length=16), nullable=True),
        sa.Column("pagerduty_by", sa.String(length=255), nullable=True),
        sa.Column("pagerduty_at", UTCDateTime(timezone=True), nullable=True),
    ):
        op.add_column("incidents", column)
    op.create_table(
        "pagerduty_webhooks",
        sa.Column("connector_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("subscription_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("previous_secret", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["connectors.id"],
            name=op.f("fk_pagerduty_webhooks_connector_id_connectors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connector_id", name=op.f("pk_pagerduty_webhooks")),
    )
    op.create_table(
        "pagerduty_webhook_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=255), nullable=True),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("processed_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["connectors.id"],
            name=op.f("fk_pagerduty_webhook_events_connector_id_connectors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pagerduty_webhook_events")),
    )
    op.create_index(
        "ix_pagerduty_webhook_events_delivery",
        "pagerduty_webhook_events",
        ["connector_id", "webhook_id"],
        unique=True,
    )
    op.create_index(
        "ix_pagerduty_webhook_events_pending",
        "pagerduty_webhook_events",
        ["processed_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_pagerduty_webhook_events_pending", table_name="pagerduty_webhook_events")
    op.drop_index("ix_pagerduty_webhook_events_delivery", table_name="pagerduty_webhook_events")
    op.drop_table("pagerduty_webhook_events")
    op.drop_table("pagerduty_webhooks")
    for column in ("pagerduty_at", "pagerduty_by", "pagerduty_status"):
        op.drop_column("incidents", column)

"""chat channels stored the same way for every kind: one secret, a public config, an endpoint

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notify_channels") as batch:
        batch.alter_column("webhook", new_column_name="secret")
        batch.alter_column("webhook_last4", new_column_name="secret_last4")
        batch.add_column(sa.Column("config", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("endpoint", sa.String(length=2048), nullable=True))
    bind = op.get_bind()
    channels = sa.table(
        "notify_channels",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("recipients", sa.JSON),
        sa.column("config", sa.JSON),
        sa.column("endpoint", sa.String),
    )
    for id_, kind, recipients in bind.execute(
        sa.select(channels.c.id, channels.c.kind, channels.c.recipients)
    ).all():
        config = {"recipients": list(recipients or [])} if kind == "email" else {}
        bind.execute(
            sa.update(channels).where(channels.c.id == id_).values(config=config, endpoint=kind)
        )
    with op.batch_alter_table("notify_channels") as batch:
        batch.drop_column("recipients")
        batch.alter_column("config", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("endpoint", existing_type=sa.String(length=2048), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("notify_channels") as batch:
        batch.add_column(sa.Column("recipients", sa.JSON(), nullable=True))
    bind = op.get_bind()
    channels = sa.table(
        "notify_channels",
        sa.column("id", sa.Integer),
        sa.column("recipients", sa.JSON),
        sa.column("config", sa.JSON),
    )
    for id_, config in bind.execute(sa.select(channels.c.id, channels.c.config)).all():
        recipients = (config or {}).get("recipients")
        bind.execute(sa.update(channels).where(channels.c.id == id_).values(recipients=recipients))
    with op.batch_alter_table("notify_channels") as batch:
        batch.drop_column("endpoint")
        batch.drop_column("config")
        batch.alter_column("secret_last4", new_column_name="webhook_last4")
        batch.alter_column("secret", new_column_name="webhook")

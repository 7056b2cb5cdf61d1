"""`rbtk secrets ...` works on the local database directly, like `rbtk tokens`."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner, Result

from rbtk.admin.chat_channels import add_channel
from rbtk.cli.main import app
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from tests.factories import add_connector, pool_offline

WEBHOOK = "http://127.0.0.1:9/services/T0001/B0002/s3cr3tW3bh00k"

Secrets = Callable[..., Result]


@pytest.fixture
def old_key(context: Context) -> str:
    key = context.settings.secret_key
    assert key is not None
    return key.get_secret_value()


@pytest.fixture
def secrets(context: Context) -> Secrets:
    """`rbtk secrets ARGS` on the suite's database with RBTK_SECRET_KEY=`key`."""

    def run(*args: str, key: str, input: str | None = None) -> Result:
        settings = context.settings
        env = {
            "RBTK_DATABASE_URL": settings.database_url,
            "RBTK_DATA_DIR": str(settings.data_dir),
            "RBTK_SECRET_KEY": key,
            "RBTK_ALLOW_PRIVATE_WEBHOOKS": "1",
        }
        return CliRunner().invoke(app, ["secrets", *args], env=env, input=input, prog_name="rbtk")

    return run


def store_secrets(context: Context) -> None:
    """A connector, a Slack channel, an open incident and its queued trigger."""
    now = datetime.now(UTC)
    add_connector(context, now=now)
    with context.engine.begin() as connection:
        add_channel(
            connection,
            vault=context.vault,
            name="ops-slack",
            kind="slack",
            values={"webhook_url": WEBHOOK},
            allow_private_webhooks=True,
            by="test",
            now=now,
        )
    ingest(context, [pool_offline("e1", now - timedelta(hours=2))], now)

"""`rbtk serve` refuses to start with a secret key that cannot decrypt the stored secrets,
settings that cannot work together, or (--no-migrate) a database behind its schema."""

import logging

import pytest
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from cryptography.fernet import Fernet
from typer.testing import CliRunner, Result

from rbtk.cli.main import app
from rbtk.context import Context
from rbtk.secret_keys import MESSAGE
from rbtk.store.db import MIGRATIONS, head, is_current


def serve(
    context: Context,
    monkeypatch: pytest.MonkeyPatch,
    secret_key: str,
    *options: str,
    **more: str,
) -> Result:
    """`rbtk serve OPTIONS` on the suite's database with this RBTK_SECRET_KEY (and `more`
    settings), expected to refuse."""
    root = logging.getLogger()  # `serve` sets up logging: undone after the test
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    settings = context.settings
    env = {
        "RBTK_DATABASE_URL": settings.database_url,
        "RBTK_DATA_DIR": str(settings.data_dir),
        "RBTK_SECRET_KEY": secret_key,
        **more,
    }
    return CliRunner().invoke(app, ["serve", "--port", "9", *options], env=env, prog_name="rbtk")


def test_serve_refuses_to_start_with_another_secret_key_and_says_what_to_do(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = serve(context, monkeypatch, Fernet.generate_key().decode())

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines()[-1] == f"error: rbtk will not start: {MESSAGE}"
    assert "Traceback" not in result.stderr


def test_serve_with_a_malformed_secret_key_says_so_in_one_line(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = serve(context, monkeypatch, "not-a-key")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines()[-1].startswith(
        "error: rbtk will not start: RBTK_SECRET_KEY must be a Fernet key"
    )
    assert "Traceback" not in result.stderr


def test_serve_no_migrate_refuses_a_database_behind_its_schema_naming_rbtk_migrate(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    with context.engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    with context.engine.connect() as connection:
        behind = MigrationContext.configure(connection).get_current_revision()
    key = context.settings.secret_key

    result = serve(context, monkeypatch, key.get_secret_value() if key else "", "--no-migrate")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"error: rbtk will not start: the database's schema ({behind}) is behind this rbtk's "
        f"({head()}): run `rbtk migrate`"
    ]
    assert not is_current(context.engine)  # and it was left as it was


def test_serve_refuses_a_lease_shorter_than_the_slowest_channels_request(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = context.settings.secret_key
    assert key is not None
    result = serve(context, monkeypatch, key.get_secret_value(), RBTK_DELIVERY_LEASE_S="10")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: bad configuration: RBTK_DELIVERY_LEASE_S must be at least 1.5 times the slowest "
        "channel's timeout (pagerduty: 10 s): a lease that can run out during a request lets "
        "another instance send the same row again\n"
    )

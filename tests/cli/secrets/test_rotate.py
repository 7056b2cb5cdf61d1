"""`rbtk secrets rotate`: every stored secret re-encrypted with the first RBTK_SECRET_KEY."""

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from rbtk.cli.main import app
from rbtk.context import Context, open_context
from rbtk.runtime.secrets import Secret, Vault
from rbtk.secret_keys import SecretKeyMismatch
from rbtk.store.tables import connectors, notify_channels
from tests.cli.secrets.conftest import WEBHOOK, Secrets, store_secrets
from tests.factories import KEY, OTHER_KEY


def reopen(context: Context, key: str) -> Context:
    return open_context(context.settings.model_copy(update={"secret_key": SecretStr(key)}))


def test_rotate_re_encrypts_everything_so_the_old_key_can_be_dropped(
    context: Context, secrets: Secrets, old_key: str
) -> None:
    store_secrets(context)
    new_key = Fernet.generate_key().decode()

    result = secrets("rotate", key=f"{new_key},{old_key}")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "connector integration keys: 1\n"
        "Slack webhook URLs: 1\n"
        "open incidents' routing keys: 1\n"
        "delivery destinations: 1\n"
        "Every stored secret is now encrypted with the first key of RBTK_SECRET_KEY. Set "
        "RBTK_SECRET_KEY to that key alone (on every instance) to drop the others.\n"
    )
    reopened = reopen(context, new_key)
    with reopened.engine.connect() as connection:
        key = connection.execute(select(connectors.c.routing_key)).scalar_one()
        webhook = connection.execute(select(notify_channels.c.secret)).scalar_one()
    reopened.engine.dispose()
    assert Vault(new_key).decrypt(key) == Secret(KEY)
    assert Vault(new_key).decrypt(webhook) == Secret(WEBHOOK)
    with pytest.raises(SecretKeyMismatch):
        reopen(context, old_key)


def test_rotate_without_the_old_key_changes_nothing_and_says_what_to_do(
    context: Context, secrets: Secrets
) -> None:
    store_secrets(context)

    result = secrets("rotate", key=Fernet.generate_key().decode())

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: cannot rotate: RBTK_SECRET_KEY decrypts none of its keys for the integration "
        "key of connector 'pd-production', the webhook URL of Slack channel 'ops-slack', the "
        "routing keys of 1 open incidents, the destinations of 1 deliveries: add the key it "
        "was encrypted with to RBTK_SECRET_KEY (after the new one), or run 'rbtk secrets "
        "reset' to enter it again; nothing was changed\n"
    )
    with context.engine.connect() as connection:
        key = connection.execute(select(connectors.c.routing_key)).scalar_one()
    assert context.vault.decrypt(key) == Secret(KEY)
    assert OTHER_KEY  # (the key the reset tests enter)


@pytest.mark.parametrize("command", [("rotate",), ("reset",)])
def test_on_a_data_dir_with_no_database_rotate_and_reset_say_so_and_create_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    mistyped = tmp_path / "rbkt"
    env = {
        "RBTK_DATABASE_URL": "",
        "RBTK_DATA_DIR": str(mistyped),
        "RBTK_SECRET_KEY": Fernet.generate_key().decode(),
    }

    result = CliRunner().invoke(app, ["secrets", *command], env=env, prog_name="rbtk")

    database = f"sqlite:///{mistyped / 'rbtk.db'}"
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: no rbtk database at {database}; is RBTK_DATA_DIR right?\n"
    assert not mistyped.exists()

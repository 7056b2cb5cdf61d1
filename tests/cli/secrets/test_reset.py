"""`rbtk secrets reset`: after a lost RBTK_SECRET_KEY, enter every integration key and webhook
URL again; what was queued goes to them."""

import getpass

from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select

from rbtk.admin import audit
from rbtk.context import Context, open_context
from rbtk.runtime.secrets import Secret, mask
from rbtk.store.tables import connectors, notify_channels, outbox
from tests.cli.secrets.conftest import Secrets, store_secrets
from tests.factories import OTHER_KEY

NEW_WEBHOOK = "http://127.0.0.1:9/services/T0001/B0002/n3wW3bh00k"


def test_reset_asks_for_each_lost_secret_and_then_rbtk_starts_with_the_new_key(
    context: Context, secrets: Secrets
) -> None:
    store_secrets(context)
    new_key = Fernet.generate_key().decode()

    result = secrets("reset", key=new_key, input=f"{OTHER_KEY}\n{NEW_WEBHOOK}\n")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "RBTK_SECRET_KEY cannot decrypt 2 stored secrets; enter each again (typing is hidden).\n"
        "Integration Key of connector pd-production: \n"
        "Webhook URL of Slack channel ops-slack: \n"
        "connector integration keys entered: 1\n"
        "channel secrets entered (Slack webhook URLs, signing secrets): 1\n"
        "open incidents now resolved with their connector's new key: 1\n"
        "queued deliveries now sent with the new key or URL: 1\n"
        "queued deliveries marked failed (their connector or channel is gone): 0\n"
        "finished deliveries whose old destination was dropped: 0\n"
        "rbtk now starts with this RBTK_SECRET_KEY.\n"
    )
    reopened = open_context(context.settings.model_copy(update={"secret_key": SecretStr(new_key)}))
    with reopened.engine.connect() as connection:
        key = connection.execute(select(connectors.c.routing_key)).scalar_one()
        webhook = connection.execute(select(notify_channels.c.secret)).scalar_one()
        queued = connection.execute(select(outbox.c.destination)).scalar_one()
    reopened.engine.dispose()
    assert reopened.vault.decrypt(key) == Secret(OTHER_KEY)
    assert reopened.vault.decrypt(queued) == Secret(OTHER_KEY)
    assert reopened.vault.decrypt(webhook) == Secret(NEW_WEBHOOK)


def test_a_value_of_the_wrong_shape_is_refused_and_asked_for_again(
    context: Context, secrets: Secrets
) -> None:
    store_secrets(context)

    result = secrets(
        "reset",
        key=Fernet.generate_key().decode(),
        input=f"u+0123456789abcdefgh\n{OTHER_KEY}\nhooks.slack.com/x\n{NEW_WEBHOOK}\n",
    )

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "error: this looks like a REST API key (20 characters): the Events API needs the "
        "32-character Integration Key instead; copy the Integration Key from the service's "
        "Events API v2 integration in PagerDuty",
        "error: webhook_url: does not start with https://; expected a Slack incoming webhook "
        "URL such as https://hooks.slack.com/services/T000/B000/XXXX",
    ]
    assert "u+0123456789abcdefgh" not in result.output


def test_with_a_key_that_decrypts_everything_there_is_nothing_to_enter(
    context: Context, secrets: Secrets, old_key: str
) -> None:
    store_secrets(context)

    result = secrets("reset", key=old_key)

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Nothing to enter again: RBTK_SECRET_KEY decrypts every stored secret.\n"
    )


def test_a_key_entered_again_is_audited_masked_as_the_local_user(
    context: Context, secrets: Secrets
) -> None:
    store_secrets(context)

    secrets("reset", key=Fernet.generate_key().decode(), input=f"{OTHER_KEY}\n{NEW_WEBHOOK}\n")

    with context.engine.connect() as connection:
        page = audit.list_entries(connection, action="connector.update")
    [entry] = page.entries
    assert (entry.actor, entry.target) == (f"cli (local: {getpass.getuser()})", "pd-production")
    assert {c.field: c.after for c in entry.changes}["key"] == mask(OTHER_KEY)
    assert OTHER_KEY not in repr(entry)

"""The secret key check: a start with a key that cannot decrypt the stored secrets is refused;
rotating to a new key re-encrypts every stored secret; a lost key means entering them again."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import delete, select

from rbtk import secret_keys
from rbtk.admin.chat_channels import add_channel
from rbtk.context import Context, open_context
from rbtk.intake.ingest import ingest
from rbtk.reconcile import webhook_inbox, webhook_secrets
from rbtk.reconcile.webhook_inbox import NotAuthentic
from rbtk.runtime.secrets import Secret, Vault
from rbtk.runtime.settings import Settings
from rbtk.secret_keys import SecretKeyMismatch
from rbtk.store.tables import connectors, incidents, notify_channels, outbox, secret_key_check
from tests.factories import KEY, OTHER_KEY, add_chat_row, add_connector, pool_offline

WEBHOOK = "http://127.0.0.1:9/services/T0001/B0002/s3cr3tW3bh00k"
NEW_WEBHOOK = "http://127.0.0.1:9/services/T0001/B0002/n3wW3bh00k"
MESSAGE = (
    "the integration keys and webhook URLs stored in the database cannot be decrypted with "
    "RBTK_SECRET_KEY (it is not the key they were encrypted with), so nothing can be "
    "delivered: restore the previous key (RBTK_SECRET_KEY, or secret.key in RBTK_DATA_DIR "
    "when RBTK_SECRET_KEY is unset); to change keys, set RBTK_SECRET_KEY=NEW,OLD and run "
    "'rbtk secrets rotate'; if the old key is lost, run 'rbtk secrets reset' to enter the "
    "integration keys and webhook URLs again"
)


def now() -> datetime:
    return datetime.now(UTC)


def with_key(settings: Settings, *keys: str) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(",".join(keys))})


class Opener:
    """Opens contexts on one database, each with its own keys, and closes them after."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.opened: list[Context] = []

    def __call__(self, *keys: str) -> Context:
        context = open_context(with_key(self.settings, *keys))
        self.opened.append(context)
        return context


@pytest.fixture
def open_with(settings: Settings) -> Iterator[Opener]:
    opener = Opener(settings)
    yield opener
    for context in opener.opened:
        context.engine.dispose()


@pytest.fixture
def old_key(context: Context) -> str:
    """The key the suite's context encrypts with."""
    key = context.settings.secret_key
    assert key is not None
    return key.get_secret_value()


def store_secrets(context: Context) -> None:
    """A connector, a Slack channel, an open incident and its queued trigger."""
    add_connector(context, now=now())
    with context.engine.begin() as connection:
        add_channel(
            connection,
            vault=context.vault,
            name="ops-slack",
            kind="slack",
            values={"webhook_url": WEBHOOK},
            allow_private_webhooks=True,
            by="test",
            now=now(),
        )
    ingest(context, [pool_offline("e1", now() - timedelta(hours=2))], now())


def every_stored_secret(context: Context) -> list[bytes]:
    with context.engine.connect() as connection:
        found = list(connection.execute(select(connectors.c.routing_key)).scalars())
        found += connection.execute(select(notify_channels.c.secret)).scalars()
        found += connection.execute(select(incidents.c.routing_key)).scalars()
        found += connection.execute(select(outbox.c.destination)).scalars()
        found += connection.execute(select(secret_key_check.c.token)).scalars()
    return found


def test_the_first_start_writes_a_check_that_the_key_decrypts(context: Context) -> None:
    with context.engine.connect() as connection:
        [token] = connection.execute(select(secret_key_check.c.token)).scalars()

    assert context.vault.decrypt(token) == Secret(secret_keys.CHECK_TEXT)


def test_a_start_with_another_key_is_refused_saying_what_to_do(
    context: Context, open_with: Opener
) -> None:
    with pytest.raises(SecretKeyMismatch) as raised:
        open_with(Fernet.generate_key().decode())

    assert str(raised.value) == MESSAGE


def test_a_database_from_before_the_check_is_judged_by_its_stored_secrets(
    context: Context, open_with: Opener, old_key: str
) -> None:
    store_secrets(context)
    with context.engine.begin() as connection:
        connection.execute(delete(secret_key_check))

    with pytest.raises(SecretKeyMismatch):
        open_with(Fernet.generate_key().decode())
    reopened = open_with(old_key)

    with reopened.engine.connect() as connection:
        [token] = connection.execute(select(secret_key_check.c.token)).scalars()
    assert reopened.vault.decrypt(token) == Secret(secret_keys.CHECK_TEXT)


def test_readiness_reports_a_key_that_no_longer_decrypts_the_stored_secrets(
    context: Context,
) -> None:
    # Another instance rotated to a key this one was not given.
    with context.engine.begin() as connection:
        secret_keys.write_check(connection, Vault(Fernet.generate_key()), now=now())

    with context.engine.connect() as connection:
        assert secret_keys.problem(connection, context.vault) == MESSAGE
        secret_keys.write_check(connection, context.vault, now=now())
        assert secret_keys.problem(connection, context.vault) is None


def test_rotation_re_encrypts_every_stored_secret_so_the_old_key_can_go(
    context: Context, open_with: Opener, old_key: str
) -> None:
    store_secrets(context)
    new_key = Fernet.generate_key().decode()
    both = open_with(new_key, old_key)  # starts: the old key still decrypts

    with both.engine.begin() as connection:
        rotated = secret_keys.rotate(connection, both.vault)

    assert rotated == secret_keys.Rotated(
        connectors=1, channels=1, incidents=1, deliveries=1, rest_keys=0
    )
    only_new = open_with(new_key)
    stored = [token for token in every_stored_secret(only_new) if token]
    assert len(stored) == 5
    assert all(only_new.vault.is_current(token) for token in stored)
    assert only_new.vault.decrypt(stored[0]) == Secret(KEY)
    with pytest.raises(SecretKeyMismatch):
        open_with(old_key)


def test_rotation_refuses_and_changes_nothing_when_a_secret_cannot_be_decrypted(
    context: Context, open_with: Opener, old_key: str
) -> None:
    store_secrets(context)
    lost = Vault(Fernet.generate_key())
    with context.engine.begin() as connection:
        connection.execute(connectors.update().values(routing_key=lost.encrypt(Secret(OTHER_KEY))))
    before = every_stored_secret(context)
    both = open_with(Fernet.generate_key().decode(), old_key)

    with pytest.raises(secret_keys.CannotRotate) as raised, both.engine.begin() as connection:
        secret_keys.rotate(connection, both.vault)

    assert str(raised.value) == (
        "cannot rotate: RBTK_SECRET_KEY decrypts none of its keys for the integration key of "
        "connector 'pd-production': add the key it was encrypted with to RBTK_SECRET_KEY "
        "(after the new one), or run 'rbtk secrets reset' to enter it again; nothing was changed"
    )
    assert every_stored_secret(context) == before


def test_after_a_lost_key_reset_takes_new_values_and_re_points_what_was_queued(
    context: Context, open_with: Opener
) -> None:
    store_secrets(context)
    new_key = Fernet.generate_key().decode()
    with pytest.raises(SecretKeyMismatch):
        open_with(new_key)
    vault = Vault(new_key)

    with context.engine.begin() as connection:
        unreadable = secret_keys.unreadable(connection, vault)
        summary = secret_keys.reset(
            connection,
            vault,
            connector_keys={"pd-production": Secret(OTHER_KEY)},
            channel_secrets={"ops-slack": Secret(NEW_WEBHOOK)},
            now=now(),
        )

    assert (unreadable.connectors, unreadable.channels) == (["pd-production"], ["ops-slack"])
    assert summary == secret_keys.Reset(
        connectors=1, channels=1, incidents=1, requeued=1, failed=0, forgotten=0
    )
    reopened = open_with(new_key)
    with reopened.engine.connect() as connection:
        row = connection.execute(select(connectors)).one()
        queued = connection.execute(select(outbox)).one()
        channel = connection.execute(select(notify_channels)).one()
    assert reopened.vault.decrypt(row.routing_key) == Secret(OTHER_KEY)
    assert row.key_last4 == OTHER_KEY[-4:]
    assert reopened.vault.decrypt(queued.destination) == Secret(OTHER_KEY)
    assert queued.key_fingerprint == Secret(OTHER_KEY).fingerprint
    assert reopened.vault.decrypt(channel.secret) == Secret(NEW_WEBHOOK)
    assert channel.secret_last4 == "h00k"


def test_reset_re_points_a_queued_chat_row_only_to_its_own_kind_of_channel(
    context: Context,
) -> None:
    store_secrets(context)
    slack_row = add_chat_row(context, "ops-slack", now=now())
    stale_row = add_chat_row(context, "ops-slack", kind="webhook", now=now())  # a removed one
    vault = Vault(Fernet.generate_key().decode())

    with context.engine.begin() as connection:
        summary = secret_keys.reset(
            connection,
            vault,
            connector_keys={"pd-production": Secret(OTHER_KEY)},
            channel_secrets={"ops-slack": Secret(NEW_WEBHOOK)},
            now=now(),
        )
        rows = {
            r.id: r
            for r in connection.execute(select(outbox).where(outbox.c.channel_name.is_not(None)))
        }

    assert (summary.requeued, summary.failed) == (2, 1)  # the page and the Slack message
    assert vault.decrypt(rows[slack_row].destination) == Secret(NEW_WEBHOOK)
    assert (rows[stale_row].status, rows[stale_row].destination) == ("failed", b"")


def test_reset_refuses_unless_every_unreadable_secret_is_given_again(
    context: Context,
) -> None:
    store_secrets(context)
    vault = Vault(Fernet.generate_key())

    with pytest.raises(ValueError) as raised, context.engine.begin() as connection:
        secret_keys.reset(
            connection,
            vault,
            connector_keys={"pd-production": Secret(OTHER_KEY)},
            channel_secrets={},
            now=now(),
        )

    assert str(raised.value) == "enter these again too: Slack channel 'ops-slack'"


def test_rotation_reads_the_outbox_a_page_at_a_time_and_misses_no_row(
    context: Context, open_with: Opener, old_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secret_keys, "BATCH", 2)
    store_secrets(context)
    offline = [pool_offline(f"p{n}", now() - timedelta(hours=2), f"pool-{n}") for n in range(4)]
    ingest(context, offline, now())
    new_key = Fernet.generate_key().decode()
    both = open_with(new_key, old_key)

    with both.engine.begin() as connection:
        rotated = secret_keys.rotate(connection, both.vault)

    assert rotated == secret_keys.Rotated(
        connectors=1, channels=1, incidents=5, deliveries=5, rest_keys=0
    )
    assert all(Vault(new_key).can_decrypt(t) for t in every_stored_secret(context) if t)


def test_rotation_with_nothing_but_a_connector_stored(
    context: Context, open_with: Opener, old_key: str
) -> None:
    add_connector(context, now=now())
    both = open_with(Fernet.generate_key().decode(), old_key)

    with both.engine.begin() as connection:
        rotated = secret_keys.rotate(connection, both.vault)

    assert rotated == secret_keys.Rotated(
        connectors=1, channels=0, incidents=0, deliveries=0, rest_keys=0
    )


def subscribe(context: Context, *secrets: str) -> None:
    """pd-production subscribed to PagerDuty's webhooks once per secret, the last current."""
    connector_id = add_connector(context, now=now())
    for number, secret in enumerate(secrets):
        with context.engine.begin() as connection:
            webhook_secrets.save(
                connection, context.vault, connector_id=connector_id,
                subscription_id=f"PSUB{number}", url="https://rbtk.test/hook",
                secret=Secret(secret), now=now(),
            )  # fmt: skip


def test_rotation_re_encrypts_pagerduty_webhook_secrets_and_their_previous_ones(
    context: Context, open_with: Opener, old_key: str
) -> None:
    subscribe(context, "first-secret", "second-secret")
    new_key = Fernet.generate_key().decode()
    both = open_with(new_key, old_key)

    with both.engine.begin() as connection:
        rotated = secret_keys.rotate(connection, both.vault)

    assert rotated.webhook_secrets == 2
    only_new = open_with(new_key)
    with only_new.engine.connect() as connection:
        _, held = webhook_inbox.secrets_of(connection, only_new.vault, "pd-production")
    assert held == [Secret("second-secret"), Secret("first-secret")]


def test_reset_forgets_a_webhook_subscription_whose_secret_is_lost(context: Context) -> None:
    subscribe(context, "first-secret")
    vault = Vault(Fernet.generate_key())  # the key they were encrypted with is lost
    with context.engine.begin() as connection:
        assert secret_keys.unreadable(connection, vault).webhooks
        secret_keys.reset(
            connection, vault, connector_keys={"pd-production": Secret(KEY)},
            channel_secrets={}, now=now(),
        )  # fmt: skip
    with context.engine.connect() as connection, pytest.raises(NotAuthentic):
        webhook_inbox.secrets_of(connection, vault, "pd-production")

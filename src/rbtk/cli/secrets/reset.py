"""`rbtk secrets reset`: after losing RBTK_SECRET_KEY, enter the stored secrets again."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import typer
from sqlalchemy import Connection

from rbtk import secret_keys
from rbtk.admin import audit, chat_channels, connectors
from rbtk.cli.common import load_settings, local_actor
from rbtk.cli.secrets.common import open_store
from rbtk.runtime.secrets import Secret


def reset() -> None:
    """Ask again for every integration key and channel secret that RBTK_SECRET_KEY cannot
    decrypt (the key they were encrypted with is lost), store them with it, and send what was
    queued to them. Open incidents are resolved with their connector's new key."""
    settings = load_settings()
    engine, vault = open_store(settings)
    try:
        with engine.connect() as connection:
            lost = secret_keys.unreadable(connection, vault)
        if not (lost.connectors or lost.channels):
            with engine.begin() as connection:
                secret_keys.reset(
                    connection, vault, connector_keys={}, channel_secrets={}, now=_now()
                )
            typer.echo("Nothing to enter again: RBTK_SECRET_KEY decrypts every stored secret.")
            return
        count = len(lost.connectors) + len(lost.channels)
        typer.echo(
            f"RBTK_SECRET_KEY cannot decrypt {count} stored secrets; enter each again "
            "(typing is hidden)."
        )
        keys = {
            name: _ask(f"Integration Key of connector {name}", connectors.validate_key)
            for name in lost.connectors
        }

        with engine.connect() as connection:
            stored = {c.name: c for c in chat_channels.list_channels(connection)}
        secrets = {
            name: _ask(
                _sentence(lost.secret_of[name]) + f" {name}",
                partial(
                    chat_channels.validate_secret,
                    stored[name],
                    allow_private=settings.allow_private_webhooks,
                ),
            )
            for name in lost.channels
        }
        with engine.begin() as connection:
            now = _now()
            before = _audited(connection, keys, secrets)
            done = secret_keys.reset(
                connection, vault, connector_keys=keys, channel_secrets=secrets, now=now
            )
            after = _audited(connection, keys, secrets)
            for (action, name), state in before.items():
                audit.record(
                    connection,
                    by=local_actor(),
                    action=action,
                    target=name,
                    before=state,
                    after=after[action, name],
                    at=now,
                )
    finally:
        engine.dispose()
    typer.echo(f"connector integration keys entered: {done.connectors}")
    typer.echo(f"channel secrets entered (Slack webhook URLs, signing secrets): {done.channels}")
    typer.echo(f"open incidents now resolved with their connector's new key: {done.incidents}")
    typer.echo(f"queued deliveries now sent with the new key or URL: {done.requeued}")
    typer.echo(
        f"queued deliveries marked failed (their connector or channel is gone): {done.failed}"
    )
    typer.echo(f"finished deliveries whose old destination was dropped: {done.forgotten}")
    typer.echo("rbtk now starts with this RBTK_SECRET_KEY.")


def _audited(
    connection: Connection, keys: dict[str, Secret], secrets: dict[str, Secret]
) -> dict[tuple[str, str], dict[str, object]]:
    """What the audit log keeps of the connectors and channels whose secrets are entered
    again: the new key is audited as any other change of key, masked."""
    states: dict[tuple[str, str], dict[str, object]] = {}
    for name in keys:
        view = connectors.get(connection, name=name)
        states["connector.update", name] = connectors.audited(view)
    for name in secrets:
        channel = chat_channels.get_channel(connection, name=name)
        states["channel.update", name] = chat_channels.audited(channel)
    return states


def _sentence(phrase: str) -> str:
    """ "the webhook URL of Slack channel" -> "Webhook URL of Slack channel"."""
    words = phrase.removeprefix("the ")
    return words[:1].upper() + words[1:]


def _ask(prompt: str, validate: Callable[[str], Secret]) -> Secret:
    """Ask until the value has the right shape; the errors never repeat the value."""
    while True:
        text: str = typer.prompt(prompt, hide_input=True)
        try:
            return validate(text.strip())
        except ValueError as exc:  # InvalidKey, InvalidChannel
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)


def _now() -> datetime:
    return datetime.now(UTC)

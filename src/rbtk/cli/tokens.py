"""`rbtk tokens ...`: works directly on the local database, so it can bootstrap trust.

Creating and revoking tokens changes who may change the configuration: both are audited,
by the operating system's user (`cli (local: alice)`)."""

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import Engine

from rbtk.access import tokens
from rbtk.admin import audit
from rbtk.cli.common import fail, load_settings, local_actor, require_database
from rbtk.cli.lazy import typer_app
from rbtk.store.db import make_engine, migrate, shown

app = typer_app(no_args_is_help=True, help="Create, list and revoke API tokens.")


def _engine(*, create: bool) -> Engine:
    """The local database, said on stderr (stdout is the token, for scripts to capture).

    Only `create` makes one where there is none: listing or revoking on a mistyped data dir
    must say so rather than leave an empty database behind (and answer "no tokens").
    """
    settings = load_settings()
    database = settings.database
    typer.echo(f"database: {shown(database)}", err=True)
    if not create:
        require_database(settings)
    engine = make_engine(database)
    migrate(engine)
    return engine


@app.command()
def create(
    scope: Annotated[tokens.Scope, typer.Option(help="admin, or events (may only post events).")],
    name: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "",
) -> None:
    """Create a token and print it once; only its hash is stored."""
    now = datetime.now(UTC)
    with _engine(create=True).begin() as connection:
        token_id, token = tokens.create(connection, scope=scope, name=name or scope.value, now=now)
        audit.record(
            connection,
            by=local_actor(),
            action="token.create",
            target=name or scope.value,
            before=None,
            after={"id": token_id, "name": name or scope.value, "scope": scope.value},
            at=now,
        )
    typer.echo(token)


@app.command("list")
def list_tokens() -> None:
    """List tokens (never their values)."""
    with _engine(create=False).connect() as connection:
        for info in tokens.list_all(connection):
            state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
            typer.echo(f"{info.id}\t{info.scope.value}\t{info.name}\t{state}")


@app.command()
def revoke(
    token_id: Annotated[int, typer.Argument(help="The id shown by 'rbtk tokens list'.")],
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    now = datetime.now(UTC)
    with _engine(create=False).begin() as connection:
        if not tokens.revoke(connection, token_id, now=now):
            raise fail(f"no active token with id {token_id}")
        [info] = [t for t in tokens.list_all(connection) if t.id == token_id]
        state = {"id": info.id, "name": info.name, "scope": info.scope.value}
        audit.record(
            connection,
            by=local_actor(),
            action="token.revoke",
            target=info.name,
            before=state | {"revoked": False},
            after=state | {"revoked": True},
            at=now,
        )
    typer.echo(f"revoked token {token_id}")

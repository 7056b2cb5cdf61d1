"""`rbtk serve`: the API in this process; delivery and the scheduler in a child it supervises."""

import asyncio
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from rbtk.cli.common import fail, load_settings

if TYPE_CHECKING:
    from rbtk.context import Context


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_migrate: Annotated[
        bool,
        typer.Option(
            "--no-migrate",
            help="Never migrate the database; refuse one that is not at this rbtk's schema "
            "(replicas, and deploys that run `rbtk migrate` first).",
        ),
    ] = False,
) -> None:
    """Run rbtk: the HTTP API, delivery to PagerDuty and the threshold scheduler.

    Delivery and the scheduler run in a second process that this one starts, restarts if it
    dies, and stops with it (SIGTERM or Ctrl-C stops both; in-flight sends finish first).
    The database is migrated first unless --no-migrate.
    """
    # Imported here, not at the top: every other command (`events send` in a script, say)
    # would otherwise pay a second for the whole server at each start.
    import uvicorn

    from rbtk.app import create_app
    from rbtk.channels import registry
    from rbtk.context import SchemaNotCurrent, open_context
    from rbtk.delivery import process
    from rbtk.runtime import data_dir, logs
    from rbtk.runtime.secrets import BadSecretKey
    from rbtk.secret_keys import SecretKeyMismatch

    settings = load_settings()
    logs.configure(settings)
    # Held until this process exits: `rbtk restore` refuses a data dir being served.
    data_dir.hold_while_serving(settings.data_dir)
    try:
        context = open_context(settings, migrating=not no_migrate)
    except (SecretKeyMismatch, BadSecretKey, SchemaNotCurrent) as exc:
        raise fail(f"rbtk will not start: {exc}") from None
    _introduce(context, host, port)
    config = uvicorn.Config(
        create_app(context, workers=False),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=int(registry.drain_s(settings)) + 5,
    )
    server = uvicorn.Server(config)

    async def serving() -> None:
        # Delivery and the scheduler in their own process: the API does not share its GIL
        # with them. The child is stopped once the API has answered its last request.
        async with process.supervised(context, stopping=lambda: server.should_exit):
            await server.serve()

    # uvicorn re-raises SIGTERM/SIGINT once it has shut down cleanly, with the handlers it
    # found; these make that re-raise a no-op, so a clean stop exits 0 for supervisors.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda *_: None)
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(serving())


def _introduce(context: "Context", host: str, port: int) -> None:
    """Say where the settings pages are, which database this is, and how to get in."""
    import logging

    from rbtk.access import tokens
    from rbtk.store.db import shown

    log = logging.getLogger("rbtk.serve")
    where = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    log.info("settings pages at http://%s:%s/settings", where, port)
    log.info("database: %s", shown(context.settings.database))
    with context.reads.connect() as connection:
        admins = [
            t
            for t in tokens.list_all(connection)
            if t.scope is tokens.Scope.ADMIN and t.revoked_at is None
        ]
    if not admins:
        log.warning(
            "no admin token yet: create one with `RBTK_DATA_DIR=%s rbtk tokens create --scope "
            "admin --name ops` and sign in with it",
            context.settings.data_dir,
        )

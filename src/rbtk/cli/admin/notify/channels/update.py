"""`rbtk admin notify channels update NAME --health | --no-health`: mark a channel "rbtk
health" (told when pages are stuck undelivered, and when they recover), or unmark it."""

from typing import Annotated

import typer

from rbtk.cli.admin.notify.channels.add import HEALTH_HELP, SHOWN, describe
from rbtk.cli.admin.notify.common import channel_path
from rbtk.cli.common import fail
from rbtk.cli.remote import remote


def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The channel's name.")],
    health: Annotated[
        bool | None, typer.Option("--health/--no-health", help=HEALTH_HELP, show_default=False)
    ] = None,
) -> None:
    """Change a channel: whether it is marked "rbtk health"."""
    if health is None:
        raise fail("give --health or --no-health: there is nothing else to change")
    server = remote(ctx)
    with server.api() as api:
        channel = api.patch(channel_path(name), {"health": health}, expect=SHOWN)
    server.show(channel, lambda c: [f"updated channel {c['name']}", *describe(c)])

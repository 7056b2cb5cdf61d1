"""`rbtk admin notify channels remove NAME`: delete a channel no rule names."""

from typing import Annotated

import typer

from rbtk.cli.admin.notify.common import channel_path
from rbtk.cli.remote import remote


def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The channel's name.")],
) -> None:
    """Remove a channel; refused while notification rules name it."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.delete(channel_path(name))
    server.show(answer, lambda _: [f"removed channel {name}"])

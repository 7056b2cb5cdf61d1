"""`rbtk admin notify channels remove NAME`: delete a channel no rule names."""

from typing import Annotated

import typer

from rbtk.cli.admin.notify.common import channel_path
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url


def remove(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The channel's name.")],
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Remove a channel; refused while notification rules name it."""
    with Api(url, token) as api:
        api.delete(channel_path(name))
    typer.echo(f"removed channel {name}")

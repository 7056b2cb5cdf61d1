"""`rbtk admin pd route move POSITION --to N`: reorder the routing rules."""

from typing import Annotated

import typer

from rbtk.cli.admin.pd.route.common import Position, describe, edited, fetch, save
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.routing import moved


def move(
    position: Position,
    to: Annotated[int, typer.Option("--to", min=1, help="Its new position (1 is first).")],
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Move the rule at POSITION to position N; the first matching rule decides."""
    with Api(url, token) as api:
        rules = edited(lambda: moved(fetch(api), position, to))
        routing = save(api, rules)
    typer.echo(f"moved routing rule {position} to position {to}")
    typer.echo("\n".join(describe(routing)))

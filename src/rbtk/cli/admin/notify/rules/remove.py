"""`rbtk admin notify rules remove POSITION`: delete a rule; the ones after move up."""

import typer

from rbtk.cli.admin.notify.rules.common import Position, describe, edited, fetch, save
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.routing import without


def remove(position: Position, url: Url = DEFAULT_URL, token: Token = None) -> None:
    """Remove the rule at POSITION."""
    with Api(url, token) as api:
        rules = edited(lambda: without(fetch(api), position))
        saved = save(api, rules)
    typer.echo(f"removed notification rule {position}")
    typer.echo("\n".join(describe(saved)))

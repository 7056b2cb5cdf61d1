"""`rbtk admin pd route list`: the routing rules in order, and where the rest goes."""

import typer

from rbtk.cli.admin.pd.route.common import PATH, SHOWN, describe
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url


def list_rules(url: Url = DEFAULT_URL, token: Token = None) -> None:
    """List the routing rules: the first matching an event names its connectors."""
    with Api(url, token) as api:
        routing = api.get(PATH, expect=SHOWN)
    typer.echo("\n".join(describe(routing)))

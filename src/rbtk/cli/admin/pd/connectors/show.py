"""`rbtk admin pd connectors show NAME`: one connector's settings and state."""

import typer

from rbtk.cli.admin.pd.connectors.common import SHOWN, Name, describe, path
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url


def show(name: Name, url: Url = DEFAULT_URL, token: Token = None) -> None:
    """Show a connector (its key masked), its rules, open incidents and last delivery."""
    with Api(url, token) as api:
        connector = api.get(path(name), expect=SHOWN)
    typer.echo("\n".join(describe(connector)))

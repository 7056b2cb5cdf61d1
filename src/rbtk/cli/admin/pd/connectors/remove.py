"""`rbtk admin pd connectors remove NAME`: delete a connector."""

from typing import Annotated

import typer

from rbtk.cli.admin.pd.connectors.common import Name, path
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url


def remove(
    name: Name,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Remove it even with open incidents: rbtk then forgets them and never "
            "sends their resolves.",
        ),
    ] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Remove a connector; refused while it has open incidents unless --force."""
    with Api(url, token) as api:
        api.delete(path(name), params={"force": "true"} if force else None)
    typer.echo(f"removed connector {name}")

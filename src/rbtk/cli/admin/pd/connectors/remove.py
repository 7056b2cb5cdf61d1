"""`rbtk admin pd connectors remove NAME`: delete a connector."""

from typing import Annotated

import typer

from rbtk.cli.admin.pd.connectors.common import Name, path
from rbtk.cli.remote import remote


def remove(
    ctx: typer.Context,
    name: Name,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Remove it even with open incidents: rbtk then forgets them and never "
            "sends their resolves.",
        ),
    ] = False,
) -> None:
    """Remove a connector; refused while it has open incidents unless --force."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.delete(path(name), params={"force": "true"} if force else None)
    server.show(answer, lambda _: [f"removed connector {name}"])

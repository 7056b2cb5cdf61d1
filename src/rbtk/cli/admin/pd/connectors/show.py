"""`rbtk admin pd connectors show NAME`: one connector's settings and state."""

import typer

from rbtk.cli.admin.pd.connectors.common import SHOWN, Name, describe, path
from rbtk.cli.remote import remote


def show(ctx: typer.Context, name: Name) -> None:
    """Show a connector (its key masked), its rules, open incidents and last delivery."""
    server = remote(ctx)
    with server.api() as api:
        connector = api.get(path(name), expect=SHOWN)
    server.show(connector, describe)

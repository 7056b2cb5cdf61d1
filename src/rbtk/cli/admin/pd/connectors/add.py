"""`rbtk admin pd connectors add NAME --key KEY`: a new PagerDuty connector."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.connectors.common import (
    PATH,
    SHOWN,
    Disable,
    Enable,
    Name,
    describe,
    toggles,
)
from rbtk.cli.admin.pd.connectors.options import with_settings
from rbtk.cli.remote import remote


@with_settings
def add(
    ctx: typer.Context,
    name: Name,
    key: Annotated[
        str,
        typer.Option(
            "--key",
            prompt="Integration key",
            hide_input=True,
            help="The 32-character Integration Key of a PagerDuty Events API v2 integration; "
            "asked for when left out, so it stays out of shell history.",
        ),
    ],
    enable: Enable = None,
    disable: Disable = None,
    *,
    settings: dict[str, Any],
) -> None:
    """Add a connector; rules, region and the rest take the server's defaults unless given."""
    body = {"name": name, "integration_key": key, **toggles(enable, disable), **settings}
    server = remote(ctx)
    with server.api() as api:
        connector = api.post(PATH, body, expect=SHOWN)
    server.show(connector, lambda c: [f"added connector {c['name']}", *describe(c)])

"""`rbtk admin pd webhooks enable --connector NAME [--url URL]`: subscribe the connector to
PagerDuty's webhooks (again: a new subscription replaces the old one)."""

from typing import Annotated

import typer

from rbtk.cli.admin.pd.webhooks.common import SHOWN, Connector, describe, webhooks_path
from rbtk.cli.remote import remote


def enable(
    ctx: typer.Context,
    connector: Connector,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            metavar="URL",
            help="Where PagerDuty delivers (https); default RBTK_PUBLIC_URL's webhook endpoint.",
        ),
    ] = None,
) -> None:
    """Subscribe the connector's PagerDuty service to rbtk's webhook endpoint."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.post(webhooks_path(connector), {"url": url}, expect=SHOWN)
    server.show(answer, describe)

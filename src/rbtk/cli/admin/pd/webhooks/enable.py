"""`rbtk admin pd webhooks enable --connector NAME [--delivery-url URL]`: subscribe the
connector to PagerDuty's webhooks (again: a new subscription replaces the old one);
`--re-enable` enables again the subscription PagerDuty disabled after deliveries it could not
make. (`--url` is the admin group's: where rbtk's API is.)"""

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
            "--delivery-url",
            metavar="URL",
            help="Where PagerDuty delivers (https); default RBTK_PUBLIC_URL's webhook endpoint.",
        ),
    ] = None,
    re_enable: Annotated[
        bool,
        typer.Option(
            "--re-enable", help="Enable again the subscription PagerDuty disabled; no new one."
        ),
    ] = False,
) -> None:
    """Subscribe the connector's PagerDuty service to rbtk's webhook endpoint."""
    server = remote(ctx)
    with server.api() as api:
        if re_enable:
            answer = api.post(f"{webhooks_path(connector)}/enable", None, expect=SHOWN)
        else:
            answer = api.post(webhooks_path(connector), {"url": url}, expect=SHOWN)
    server.show(answer, describe)

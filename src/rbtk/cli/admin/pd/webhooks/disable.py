"""`rbtk admin pd webhooks disable --connector NAME`: delete the subscription at PagerDuty
and forget its secrets; reconcile alone tells rbtk what PagerDuty did from then on."""

import typer

from rbtk.cli.admin.pd.webhooks.common import Connector, webhooks_path
from rbtk.cli.remote import remote


def disable(ctx: typer.Context, connector: Connector) -> None:
    """Delete the connector's webhook subscription."""
    server = remote(ctx)
    with server.api() as api:
        api.delete(webhooks_path(connector))
    server.show(None, lambda _: [f"{connector}: webhooks disabled"])

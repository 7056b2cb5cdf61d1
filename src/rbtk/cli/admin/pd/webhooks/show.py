"""`rbtk admin pd webhooks show --connector NAME`: the subscription's state at PagerDuty and
the last delivery rbtk received."""

import typer

from rbtk.cli.admin.pd.webhooks.common import SHOWN, Connector, describe, webhooks_path
from rbtk.cli.remote import remote


def show(ctx: typer.Context, connector: Connector) -> None:
    """Show the connector's webhook subscription, as PagerDuty has it now."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(webhooks_path(connector), expect=SHOWN)
    server.show(answer, describe)

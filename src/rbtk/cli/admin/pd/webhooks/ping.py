"""`rbtk admin pd webhooks ping --connector NAME`: have PagerDuty send a ping; exit 0 once
it arrived, signed, and 1 when it did not in time."""

import typer

from rbtk.cli.admin.pd.webhooks.common import Connector, webhooks_path
from rbtk.cli.common import fail
from rbtk.cli.remote import remote


def ping(ctx: typer.Context, connector: Connector) -> None:
    """Ask PagerDuty for a ping and wait until it arrives."""
    server = remote(ctx)
    with server.api() as api:
        _, answer = api.answer(
            "POST", f"{webhooks_path(connector)}/ping", expect=("arrived",), allow=(504,)
        )
    if not answer.get("arrived"):
        raise fail(
            f"{connector}: PagerDuty's ping did not arrive: check the subscription's URL "
            f"('rbtk admin pd webhooks show --connector {connector}') and that PagerDuty can "
            "reach it"
        )
    server.show(answer, lambda _: [f"{connector}: PagerDuty's ping arrived, signed"])

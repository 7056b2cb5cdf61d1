"""What the webhook commands share: the connector option, the API path, how one is shown."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.connectors.common import path
from rbtk.cli.tables import fields, moment, yes_no

Connector = Annotated[
    str, typer.Option("--connector", metavar="NAME", help="The connector, e.g. pd-production.")
]
SHOWN = ("connector", "subscription_id", "url", "created_at", "active", "temporarily_disabled",
         "last_delivery_at", "last_event_type", "error")  # fmt: skip


def webhooks_path(connector: str) -> str:
    return f"{path(connector)}/webhooks"


def describe(state: dict[str, Any]) -> list[str]:
    """The subscription as rbtk keeps it and PagerDuty has it; never its secret."""
    last = state["last_delivery_at"]
    at_pagerduty = (
        f"unread: {state['error']}"
        if state["error"]
        else "temporarily disabled (3 deliveries dropped in a row): enable it again"
        if state["temporarily_disabled"]
        else f"active: {yes_no(bool(state['active']))}"
    )
    return fields(
        [
            ("connector", state["connector"]),
            ("subscription", state["subscription_id"]),
            ("delivers to", state["url"]),
            ("created", moment(state["created_at"])),
            ("at PagerDuty", at_pagerduty),
            (
                "last delivery",
                f"{moment(last)} ({state['last_event_type']})" if last else "none yet",
            ),
        ]
    )

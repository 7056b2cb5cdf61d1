"""`rbtk admin pd connectors list`: every connector in a table."""

from typing import Any

import typer

from rbtk.cli.admin.pd.connectors.common import PATH, cap, last_delivery
from rbtk.cli.remote import remote
from rbtk.cli.tables import table, yes_no

HEADERS = (
    "NAME", "KEY", "REGION", "DEFAULT", "MAX SEVERITY", "OPEN", "LAST DELIVERY", "ENABLED RULES",
)  # fmt: skip


def list_connectors(ctx: typer.Context) -> None:
    """List connectors: masked key, region, default, cap, open incidents, last delivery, rules."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(PATH, expect=("connectors",))
    server.show(answer, describe)


def describe(answer: dict[str, Any]) -> list[str]:
    connectors = answer["connectors"]
    if not connectors:
        return ["no connectors yet: add one with 'rbtk admin pd connectors add NAME --key KEY'"]
    rows = [
        (
            c["name"],
            c["integration_key"],
            c["region"],
            yes_no(c["is_default"]),
            cap(c.get("max_severity")),
            str(c["open_incidents"]),
            last_delivery(c.get("last_delivery")),
            ",".join(rule for rule, on in c["rules"].items() if on) or "none",
        )
        for c in connectors
    ]
    return table(HEADERS, rows)

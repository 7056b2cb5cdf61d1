"""`rbtk admin pd connectors list`: every connector in a table."""

import typer

from rbtk.cli.admin.pd.connectors.common import PATH, cap, last_delivery
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.cli.tables import table, yes_no

HEADERS = (
    "NAME", "KEY", "REGION", "DEFAULT", "MAX SEVERITY", "OPEN", "LAST DELIVERY", "ENABLED RULES",
)  # fmt: skip


def list_connectors(url: Url = DEFAULT_URL, token: Token = None) -> None:
    """List connectors: masked key, region, default, cap, open incidents, last delivery, rules."""
    with Api(url, token) as api:
        connectors = api.get(PATH, expect=("connectors",))["connectors"]
    if not connectors:
        typer.echo("no connectors yet: add one with 'rbtk admin pd connectors add NAME --key KEY'")
        return
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
    typer.echo("\n".join(table(HEADERS, rows)))

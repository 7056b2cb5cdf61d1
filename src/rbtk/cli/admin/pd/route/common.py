"""What the route commands share: the API path, the rule list, showing it."""

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from rbtk.cli.admin.rule_commands import RuleList
from rbtk.cli.tables import table
from rbtk.routing.pagerduty import RouteRule

PATH = "/api/v1/pagerduty/routing"
HEADERS = ("POSITION", "PROJECT", "EVENT TYPE", "CONNECTORS")
ANY = "(any)"

Position = Annotated[
    int, typer.Argument(metavar="POSITION", min=1, help="The rule's position, from 'route list'.")
]


def describe(routing: Mapping[str, Any]) -> list[str]:
    rules, defaults = routing["rules"], routing["defaults"]
    mark = "mark one with 'rbtk admin pd connectors update NAME --default'"
    if not rules:
        if defaults:
            return [f"no routing rules: every event goes to the default connectors: "
                    f"{', '.join(defaults)}"]  # fmt: skip
        return [f"no routing rules and no default connector: nothing pages; {mark}"]
    rows = [
        (
            str(r["position"]),
            r["project"] or ANY,
            r["event_type"] or ANY,
            ",".join(r["connectors"]),
        )
        for r in rules
    ]
    if defaults:
        otherwise = f"events no rule matches go to the default connectors: {', '.join(defaults)}"
    else:
        otherwise = f"events no rule matches page nobody: no connector is marked default; {mark}"
    return [*table(HEADERS, rows), otherwise]


ROUTING = RuleList(
    path=PATH,
    kind=RouteRule,
    shown=("rules", "defaults"),
    called="routing rule",
    describe=describe,
)

"""What the route commands share: the API path, reading and saving the list, showing it."""

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import typer

from rbtk.cli.client import Api
from rbtk.cli.common import fail
from rbtk.cli.tables import table
from rbtk.routing import NoSuchPosition, RouteRule

PATH = "/api/v1/pagerduty/routing"
SHOWN = ("rules", "defaults")
HEADERS = ("POSITION", "PROJECT", "EVENT TYPE", "CONNECTORS")
ANY = "(any)"

Position = Annotated[
    int, typer.Argument(metavar="POSITION", min=1, help="The rule's position, from 'route list'.")
]


def fetch(api: Api) -> list[RouteRule]:
    return [_rule(r) for r in api.get(PATH, expect=SHOWN)["rules"]]


def save(api: Api, rules: Sequence[RouteRule]) -> Mapping[str, Any]:
    """PUT the whole list: the server validates it and changes nothing when it is wrong."""
    body = {"rules": [_json(rule) for rule in rules]}
    answer: Mapping[str, Any] = api.call("PUT", PATH, body=body, expect=SHOWN)
    return answer


def edited(change: Callable[[], list[RouteRule]]) -> list[RouteRule]:
    """Run a list edit (add, remove, move), a missing position failing with one line."""
    try:
        return change()
    except NoSuchPosition as exc:
        raise fail(str(exc)) from None


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


def _rule(raw: Mapping[str, Any]) -> RouteRule:
    return RouteRule(raw["position"], raw["project"], raw["event_type"], tuple(raw["connectors"]))


def _json(rule: RouteRule) -> dict[str, Any]:
    return {
        "position": rule.position,
        "project": rule.project,
        "event_type": rule.event_type,
        "connectors": list(rule.connectors),
    }

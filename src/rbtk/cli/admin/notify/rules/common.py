"""What the notification rule commands share: reading and saving the list, showing it."""

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import typer

from rbtk.cli.admin.notify.common import RULES
from rbtk.cli.client import Api
from rbtk.cli.common import fail
from rbtk.cli.tables import table
from rbtk.notify import NotifyRule
from rbtk.routing import NoSuchPosition

SHOWN = ("rules",)
HEADERS = ("POSITION", "PROJECT", "EVENT TYPE", "CHANNELS")
ANY = "(any)"

Position = Annotated[
    int, typer.Argument(metavar="POSITION", min=1, help="The rule's position, from 'rules list'.")
]


def fetch(api: Api) -> list[NotifyRule]:
    return [_rule(r) for r in api.get(RULES, expect=SHOWN)["rules"]]


def save(api: Api, rules: Sequence[NotifyRule]) -> list[dict[str, Any]]:
    """PUT the whole list: the server validates it and changes nothing when it is wrong."""
    body = {"rules": [_json(rule) for rule in rules]}
    saved: list[dict[str, Any]] = api.call("PUT", RULES, body=body, expect=SHOWN)["rules"]
    return saved


def edited(change: Callable[[], list[NotifyRule]]) -> list[NotifyRule]:
    """Run a list edit (add, remove, move), a missing position failing with one line."""
    try:
        return change()
    except NoSuchPosition as exc:
        raise fail(str(exc)) from None


def describe(rules: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rules:
        return ["no notification rules: nothing goes to Slack or email"]
    rows = [
        (str(r["position"]), r["project"] or ANY, r["event_type"] or ANY, ",".join(r["channels"]))
        for r in rules
    ]
    return table(HEADERS, rows)


def _rule(raw: Mapping[str, Any]) -> NotifyRule:
    return NotifyRule(raw["position"], raw["project"], raw["event_type"], tuple(raw["channels"]))


def _json(rule: NotifyRule) -> dict[str, Any]:
    return {
        "position": rule.position,
        "project": rule.project,
        "event_type": rule.event_type,
        "channels": list(rule.channels),
    }

"""What the notification rule commands share: the rule list, showing it."""

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from rbtk.cli.admin.notify.common import RULES
from rbtk.cli.admin.rule_commands import RuleList
from rbtk.cli.tables import table
from rbtk.routing.chat import ChatRule

HEADERS = ("POSITION", "PROJECT", "EVENT TYPE", "CHANNELS")
ANY = "(any)"

Position = Annotated[
    int, typer.Argument(metavar="POSITION", min=1, help="The rule's position, from 'rules list'.")
]


def describe(answer: Mapping[str, Any]) -> list[str]:
    rules = answer["rules"]
    if not rules:
        return ["no notification rules: nothing goes to Slack or email"]
    rows = [
        (str(r["position"]), r["project"] or ANY, r["event_type"] or ANY, ",".join(r["channels"]))
        for r in rules
    ]
    return table(HEADERS, rows)


NOTIFY_RULES = RuleList(
    path=RULES,
    kind=ChatRule,
    shown=("rules",),
    called="notification rule",
    describe=describe,
)

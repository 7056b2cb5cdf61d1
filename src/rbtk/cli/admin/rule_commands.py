"""What the ordered rule commands share (`pd route`, `notify rules`): list, add, remove, move.

Each edit reads the whole list from the API, changes it here, and PUTs it back: the server
validates it and changes nothing when it is wrong.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from rbtk.cli.common import fail
from rbtk.cli.remote import Remote
from rbtk.routing.ordered_rules import NoSuchPosition, OrderedRule, inserted, moved, without

InsertAt = Annotated[
    int | None,
    typer.Option("--position", min=1, help="Where to insert it (1 is first); the end by default."),
]
To = Annotated[int, typer.Option("--to", min=1, help="Its new position (1 is first).")]


@dataclass(frozen=True)
class RuleList:
    """One ordered rule list behind the API, and how the commands talk about it."""

    path: str  # GET and PUT the whole list
    kind: type[OrderedRule]
    shown: tuple[str, ...]  # the keys of the API's answer
    called: str  # how the messages name one rule: "routing rule"
    describe: Callable[[Mapping[str, Any]], list[str]]  # the answer, as lines


Change = Callable[[list[OrderedRule]], list[OrderedRule]]


def list_rules(rules: RuleList, remote: Remote) -> None:
    with remote.api() as api:
        answer = api.get(rules.path, expect=rules.shown)
    remote.show(answer, rules.describe)


def add(rules: RuleList, rule: OrderedRule, position: int | None, remote: Remote) -> None:
    edited, answer = _edit(
        rules, lambda current: inserted(current, rule, position=position), remote
    )
    _done(rules, answer, f"added {rules.called} at position {position or len(edited)}", remote)


def remove(rules: RuleList, position: int, remote: Remote) -> None:
    _, answer = _edit(rules, lambda current: without(current, position), remote)
    _done(rules, answer, f"removed {rules.called} {position}", remote)


def move(rules: RuleList, position: int, to: int, remote: Remote) -> None:
    _, answer = _edit(rules, lambda current: moved(current, position, to), remote)
    _done(rules, answer, f"moved {rules.called} {position} to position {to}", remote)


def _edit(
    rules: RuleList, change: Change, remote: Remote
) -> tuple[list[OrderedRule], Mapping[str, Any]]:
    """The edited list and the API's answer to saving it; a missing position fails in a line."""
    with remote.api() as api:
        current = [
            rules.kind.from_json(r) for r in api.get(rules.path, expect=rules.shown)["rules"]
        ]
        try:
            edited = change(current)
        except NoSuchPosition as exc:
            raise fail(str(exc)) from None
        body = {"rules": [rule.as_json() for rule in edited]}
        answer: Mapping[str, Any] = api.call("PUT", rules.path, body=body, expect=rules.shown)
    return edited, answer


def _done(rules: RuleList, answer: Mapping[str, Any], what: str, remote: Remote) -> None:
    """What was done and the list as saved; with --output json, the saved list only."""
    remote.show(answer, lambda saved: [what, *rules.describe(saved)])

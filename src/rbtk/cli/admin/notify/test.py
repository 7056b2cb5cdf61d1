"""`rbtk admin notify test --channel NAME`: send a test message and say what came back."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.notify.common import channel_path
from rbtk.cli.common import fail
from rbtk.cli.remote import remote
from rbtk.cli.tables import fields

OUTCOME = ("channel", "status")


def send_test_message(
    ctx: typer.Context,
    channel: Annotated[str, typer.Option("--channel", metavar="NAME", help="The channel.")],
) -> None:
    """Send a test message through a channel now; exit 1 unless it was delivered."""
    server = remote(ctx)
    with server.api() as api:
        # 502 and 504 carry the outcome too: show it, then say what went wrong.
        status, answer = api.answer(
            "POST", f"{channel_path(channel)}/test", body={}, expect=OUTCOME, allow=(502, 504)
        )
    server.show(answer, lambda a: describe(a if status == 200 else a.get("outcome")))
    if status != 200:
        raise fail(answer["detail"])


def describe(outcome: object) -> list[str]:
    if not (isinstance(outcome, dict) and all(key in outcome for key in OUTCOME)):
        return []
    return fields([("channel", outcome["channel"]), ("outcome", _said(outcome))])


def _said(outcome: dict[str, Any]) -> str:
    """`sent (HTTP 200, ok)`: the status and the channel's answer."""
    answer = [f"HTTP {outcome['http_status']}"] if outcome.get("http_status") else []
    if outcome.get("message"):
        answer.append(str(outcome["message"]))
    return f"{outcome['status']} ({', '.join(answer)})" if answer else str(outcome["status"])

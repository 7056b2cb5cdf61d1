"""`rbtk admin notify test --channel NAME`: send a test message and say what came back."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.notify.common import channel_path
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.cli.common import fail
from rbtk.cli.tables import fields

OUTCOME = ("channel", "status")


def send_test_message(
    channel: Annotated[str, typer.Option("--channel", metavar="NAME", help="The channel.")],
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Send a test message through a channel now; exit 1 unless it was delivered."""
    with Api(url, token) as api:
        # 502 and 504 carry the outcome too: show it, then say what went wrong.
        status, answer = api.answer(
            "POST", f"{channel_path(channel)}/test", body={}, expect=OUTCOME, allow=(502, 504)
        )
    outcome = answer if status == 200 else answer.get("outcome")
    if isinstance(outcome, dict) and all(key in outcome for key in OUTCOME):
        typer.echo(
            "\n".join(fields([("channel", outcome["channel"]), ("outcome", _said(outcome))]))
        )
    if status != 200:
        raise fail(answer["detail"])


def _said(outcome: dict[str, Any]) -> str:
    """`sent (HTTP 200, ok)`: the status and the channel's answer."""
    answer = [f"HTTP {outcome['http_status']}"] if outcome.get("http_status") else []
    if outcome.get("message"):
        answer.append(str(outcome["message"]))
    return f"{outcome['status']} ({', '.join(answer)})" if answer else str(outcome["status"])

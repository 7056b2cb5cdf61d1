"""`rbtk admin notify test --channel NAME`: send a test message and say what came back; one
not answered at once (202) is followed until it is sent or failed, at most `--wait` seconds
(rbtk.cli.admin.follow)."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.follow import Wait, follow, settled
from rbtk.cli.admin.notify.common import channel_path
from rbtk.cli.common import fail
from rbtk.cli.remote import remote
from rbtk.cli.tables import fields

OUTCOME = ("channel", "status")


def send_test_message(
    ctx: typer.Context,
    channel: Annotated[str, typer.Option("--channel", metavar="NAME", help="The channel.")],
    wait: Wait = 60.0,
) -> None:
    """Send a test message through a channel now; exit 1 unless it was delivered."""
    server = remote(ctx)
    with server.api() as api:
        # 502 carries the outcome too: show it, then say what went wrong.
        status, answer = api.answer(
            "POST", f"{channel_path(channel)}/test", body={}, expect=OUTCOME, allow=(502,)
        )
        if status == 202:
            where = f"/api/v1/notify/deliveries/{answer['delivery_id']}"
            # the log's `channel` is the kind; the outcome names the channel
            row = {**follow(api, where, answer, wait_s=wait), "channel": channel}
            said = _said(row)
            status, answer = settled(row, said=said, what="test message", wait_s=wait)
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

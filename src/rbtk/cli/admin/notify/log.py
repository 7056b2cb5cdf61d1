"""`rbtk admin notify log`: the chat channels' delivery log (Slack, email, webhooks),
newest first."""

from typing import Annotated, Any

import typer

from rbtk.channels.registry import CHAT
from rbtk.cli.admin.delivery_log import AsJson, Limit, Since, StatusFilter, outcome, show_log
from rbtk.cli.common import fail
from rbtk.cli.tables import moment

PATH = "/api/v1/notify/deliveries"
PAGE = 100
HEADERS = (
    "TIME (UTC)", "CHANNEL", "KIND", "EVENT", "STATUS", "ATTEMPTS", "HTTP", "LATENCY",
    "DEDUP KEY", "MESSAGE",
)  # fmt: skip


def log(
    ctx: typer.Context,
    channel: Annotated[
        str | None, typer.Option(metavar="NAME", help="Only this chat channel's deliveries.")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help=f"Only this kind of channel: {', '.join(CHAT)}.")
    ] = None,
    status: StatusFilter = None,
    dedup_key: Annotated[str | None, typer.Option(help="Only this key's deliveries.")] = None,
    since: Since = None,
    limit: Limit = 50,
    as_json: AsJson = False,
) -> None:
    """Show every message sent to a chat channel: status, attempts, answer, latency."""
    if kind is not None and kind not in CHAT:
        raise fail(f"--kind must be one of {', '.join(CHAT)}, got {kind!r}")
    filters = {
        "channel": channel,
        "kind": kind,
        "status": status.value if status else None,
        "dedup_key": dedup_key,
        "since": since,
    }
    show_log(ctx, PATH, filters, limit=limit, as_json=as_json, headers=HEADERS, row=_row, page=PAGE)


def _row(delivery: dict[str, Any]) -> tuple[str, ...]:
    status, attempts, http, latency, message = outcome(delivery)
    return (
        moment(delivery["created_at"]),
        delivery["channel_name"],
        delivery["channel"],
        delivery.get("event_type") or "-",
        status,
        attempts,
        http,
        latency,
        delivery["dedup_key"],
        message,
    )

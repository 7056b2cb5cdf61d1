"""`rbtk admin notify channels list`: every channel, webhooks masked."""

from typing import Any

import typer

from rbtk.cli.admin.notify.channels.add import destination, positions
from rbtk.cli.admin.notify.common import CHANNELS
from rbtk.cli.remote import remote
from rbtk.cli.tables import table

HEADERS = ("NAME", "KIND", "SENDS TO", "RULES", "HEALTH")


def list_channels(ctx: typer.Context) -> None:
    """List channels: kind, masked webhook or addresses, the rules naming each, and whether
    it is marked "rbtk health"."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(CHANNELS, expect=("channels",))
    server.show(answer, describe)


def describe(answer: dict[str, Any]) -> list[str]:
    channels = answer["channels"]
    if not channels:
        return [
            "no channels yet: add one with 'rbtk admin notify channels add NAME "
            "--slack-webhook URL' or '... --email ADDRESS'"
        ]
    rows = [
        (c["name"], c["kind"], destination(c), positions(c["rules"]), "yes" if c["health"] else "")
        for c in channels
    ]
    return table(HEADERS, rows)

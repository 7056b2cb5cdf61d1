"""`rbtk admin notify channels list`: every channel, webhooks masked."""

import typer

from rbtk.cli.admin.notify.channels.add import destination, positions
from rbtk.cli.admin.notify.common import CHANNELS
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.cli.tables import table

HEADERS = ("NAME", "KIND", "SENDS TO", "RULES")


def list_channels(url: Url = DEFAULT_URL, token: Token = None) -> None:
    """List channels: kind, masked webhook or addresses, the rules naming each."""
    with Api(url, token) as api:
        channels = api.get(CHANNELS, expect=("channels",))["channels"]
    if not channels:
        typer.echo(
            "no channels yet: add one with 'rbtk admin notify channels add NAME "
            "--slack-webhook URL' or '... --email ADDRESS'"
        )
        return
    rows = [(c["name"], c["kind"], destination(c), positions(c["rules"])) for c in channels]
    typer.echo("\n".join(table(HEADERS, rows)))

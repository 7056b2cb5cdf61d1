"""`rbtk admin notify channels add NAME --slack-webhook URL | --email ADDR...`."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.notify.common import CHANNELS
from rbtk.cli.common import fail
from rbtk.cli.remote import remote
from rbtk.cli.tables import fields, moment

SHOWN = ("name", "kind", "webhook", "recipients", "rules", "created_at")


def add(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The channel's name, e.g. ops-slack.")
    ],
    slack_webhook: Annotated[
        str | None,
        typer.Option(
            "--slack-webhook",
            metavar="URL",
            help="A Slack incoming webhook URL (a secret: shown masked from then on).",
        ),
    ] = None,
    email: Annotated[
        list[str] | None,
        typer.Option("--email", metavar="ADDRESS", help="An email recipient; repeatable."),
    ] = None,
) -> None:
    """Add a Slack or email channel; notification rules then choose it."""
    if (slack_webhook is None) == (not email):
        raise fail(
            "give --slack-webhook URL or --email ADDRESS, not both"
            if email
            else "give where it sends: --slack-webhook URL, or --email ADDRESS (repeatable)"
        )
    body: dict[str, Any] = {"name": name}
    if slack_webhook is not None:
        body |= {"kind": "slack", "webhook_url": slack_webhook}
    else:
        body |= {"kind": "email", "recipients": email}
    server = remote(ctx)
    with server.api() as api:
        channel = api.post(CHANNELS, body, expect=SHOWN)
    server.show(channel, lambda c: [f"added channel {c['name']}", *describe(c)])


def describe(channel: dict[str, Any]) -> list[str]:
    return fields(
        [
            ("name", channel["name"]),
            ("kind", channel["kind"]),
            ("sends to", destination(channel)),
            ("rules", positions(channel["rules"])),
            ("created", moment(channel["created_at"])),
        ]
    )


def destination(channel: dict[str, Any]) -> str:
    if channel["kind"] == "slack":
        return str(channel["webhook"])
    return ", ".join(channel["recipients"] or [])


def positions(rules: list[int]) -> str:
    return ", ".join(str(p) for p in rules) if rules else "none"

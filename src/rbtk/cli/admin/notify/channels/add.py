"""`rbtk admin notify channels add NAME --slack-webhook URL | --email ADDR... |
--kind KIND --field NAME=VALUE...`: any chat channel the registry lists, by its fields."""

from typing import Annotated, Any

import typer

from rbtk.channels import email, slack
from rbtk.channels.registry import CHAT
from rbtk.cli.admin.notify.common import CHANNELS
from rbtk.cli.common import fail
from rbtk.cli.remote import remote
from rbtk.cli.tables import fields, moment

SHOWN = ("name", "kind", "sends_to", "rules", "health", "created_at")
HEALTH_HELP = (
    'Mark it "rbtk health": told when pages are stuck undelivered and when they recover, '
    "whatever the rules say."
)


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
    recipients: Annotated[
        list[str] | None,
        typer.Option("--email", metavar="ADDRESS", help="An email recipient; repeatable."),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(help=f"Any channel kind: {', '.join(CHAT)}; give its fields with --field."),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            metavar="NAME=VALUE",
            help="One of the kind's fields, e.g. url=https://...; a secret field left out "
            "is asked for, hidden.",
        ),
    ] = None,
    health: Annotated[bool, typer.Option("--health", help=HEALTH_HELP)] = False,
) -> None:
    """Add a chat channel (Slack, email, webhook...); notification rules then choose it."""
    body: dict[str, Any] = {"name": name, "health": health}
    if kind is not None:
        if slack_webhook is not None or recipients:
            raise fail("give --kind with --field, or --slack-webhook / --email, not both")
        body |= {"kind": kind, **_fields(kind, field or [])}
    elif (slack_webhook is None) == (not recipients):
        raise fail(
            "give --slack-webhook URL or --email ADDRESS, not both"
            if recipients
            else "give where it sends: --slack-webhook URL, or --email ADDRESS (repeatable)"
        )
    elif slack_webhook is not None:
        body |= {"kind": slack.kind, "webhook_url": slack_webhook}
    else:
        body |= {"kind": email.kind, "recipients": recipients}
    server = remote(ctx)
    with server.api() as api:
        channel = api.post(CHANNELS, body, expect=SHOWN)
    server.show(channel, lambda c: [f"added channel {c['name']}", *describe(c)])


def _fields(kind: str, given: list[str]) -> dict[str, Any]:
    channel = CHAT.get(kind)
    if channel is None:
        raise fail(f"--kind must be one of {', '.join(CHAT)}, got {kind!r}")
    takes = {f.name: f for f in channel.fields}
    values: dict[str, Any] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or name not in takes:
            raise fail(
                f"--field {name!r}: a {kind} channel takes {', '.join(takes)} (as NAME=VALUE)"
            )
        values[name] = [*values.get(name, []), value] if takes[name].many else value
    for missing in (f for f in channel.fields if f.secret and f.name not in values):
        values[missing.name] = typer.prompt(missing.label, hide_input=True)
    return values


def describe(channel: dict[str, Any]) -> list[str]:
    health = [("health", "rbtk health: told when rbtk cannot page")] if channel["health"] else []
    return fields(
        [
            ("name", channel["name"]),
            ("kind", channel["kind"]),
            ("sends to", destination(channel)),
            ("rules", positions(channel["rules"])),
            *health,
            ("created", moment(channel["created_at"])),
        ]
    )


def destination(channel: dict[str, Any]) -> str:
    return str(channel["sends_to"])


def positions(rules: list[int]) -> str:
    return ", ".join(str(p) for p in rules) if rules else "none"

"""`rbtk admin notify rules add --channel NAME ...`: a rule, at the end or a position."""

from typing import Annotated

import typer

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.notify.rules.common import NOTIFY_RULES
from rbtk.cli.admin.rule_commands import InsertAt
from rbtk.cli.remote import remote
from rbtk.routing.chat import ChatRule


def add(
    ctx: typer.Context,
    channel: Annotated[
        list[str],
        typer.Option("--channel", metavar="NAME", help="A channel to send to; repeatable."),
    ],
    project: Annotated[
        str | None,
        typer.Option(
            "--project", metavar="GLOB", help="Project slug, exact or a glob; all if left out."
        ),
    ] = None,
    event_type: Annotated[
        str | None,
        typer.Option(
            "--event-type", metavar="GLOB", help="Event type, exact or a glob; all if left out."
        ),
    ] = None,
    position: InsertAt = None,
) -> None:
    """Add a rule: matching events that page nobody go to these channels."""
    rule = ChatRule(0, project, event_type, tuple(channel))
    rule_commands.add(NOTIFY_RULES, rule, position, remote(ctx))

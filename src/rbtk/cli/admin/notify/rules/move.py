"""`rbtk admin notify rules move POSITION --to N`: reorder the notification rules."""

import typer

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.notify.rules.common import NOTIFY_RULES, Position
from rbtk.cli.admin.rule_commands import To
from rbtk.cli.remote import remote


def move(ctx: typer.Context, position: Position, to: To) -> None:
    """Move the rule at POSITION to position N; the first matching rule decides."""
    rule_commands.move(NOTIFY_RULES, position, to, remote(ctx))

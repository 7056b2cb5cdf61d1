"""`rbtk admin notify rules remove POSITION`: delete a rule; the ones after move up."""

import typer

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.notify.rules.common import NOTIFY_RULES, Position
from rbtk.cli.remote import remote


def remove(ctx: typer.Context, position: Position) -> None:
    """Remove the rule at POSITION."""
    rule_commands.remove(NOTIFY_RULES, position, remote(ctx))

"""`rbtk admin pd route move POSITION --to N`: reorder the routing rules."""

import typer

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.pd.route.common import ROUTING, Position
from rbtk.cli.admin.rule_commands import To
from rbtk.cli.remote import remote


def move(ctx: typer.Context, position: Position, to: To) -> None:
    """Move the rule at POSITION to position N; the first matching rule decides."""
    rule_commands.move(ROUTING, position, to, remote(ctx))

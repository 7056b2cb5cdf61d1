"""`rbtk admin pd route remove POSITION`: delete a routing rule; the ones after move up."""

import typer

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.pd.route.common import ROUTING, Position
from rbtk.cli.remote import remote


def remove(ctx: typer.Context, position: Position) -> None:
    """Remove the rule at POSITION."""
    rule_commands.remove(ROUTING, position, remote(ctx))

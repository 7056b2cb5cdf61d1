"""`rbtk admin pd route list`: the routing rules in order, and where the rest goes."""

import typer

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.pd.route.common import ROUTING
from rbtk.cli.remote import remote


def list_rules(ctx: typer.Context) -> None:
    """List the routing rules: the first matching an event names its connectors."""
    rule_commands.list_rules(ROUTING, remote(ctx))

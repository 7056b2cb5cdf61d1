"""`rbtk admin notify rules list`: the notification rules in order."""

import typer

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.notify.rules.common import NOTIFY_RULES
from rbtk.cli.remote import remote


def list_rules(ctx: typer.Context) -> None:
    """List the rules: the first matching an event's project and type names its channels."""
    rule_commands.list_rules(NOTIFY_RULES, remote(ctx))

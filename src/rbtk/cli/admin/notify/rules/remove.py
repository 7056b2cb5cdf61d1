"""`rbtk admin notify rules remove POSITION`: delete a rule; the ones after move up."""

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.notify.rules.common import NOTIFY_RULES, Position
from rbtk.cli.client import DEFAULT_URL, Token, Url


def remove(position: Position, url: Url = DEFAULT_URL, token: Token = None) -> None:
    """Remove the rule at POSITION."""
    rule_commands.remove(NOTIFY_RULES, position, url, token)

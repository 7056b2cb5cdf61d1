"""`rbtk admin notify rules move POSITION --to N`: reorder the notification rules."""

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.notify.rules.common import NOTIFY_RULES, Position
from rbtk.cli.admin.rule_commands import To
from rbtk.cli.client import DEFAULT_URL, Token, Url


def move(position: Position, to: To, url: Url = DEFAULT_URL, token: Token = None) -> None:
    """Move the rule at POSITION to position N; the first matching rule decides."""
    rule_commands.move(NOTIFY_RULES, position, to, url, token)

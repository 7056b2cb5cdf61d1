"""`rbtk admin notify rules list`: the notification rules in order."""

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.notify.rules.common import NOTIFY_RULES
from rbtk.cli.client import DEFAULT_URL, Token, Url


def list_rules(url: Url = DEFAULT_URL, token: Token = None) -> None:
    """List the rules: the first matching an event's project and type names its channels."""
    rule_commands.list_rules(NOTIFY_RULES, url, token)

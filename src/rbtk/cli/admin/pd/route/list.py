"""`rbtk admin pd route list`: the routing rules in order, and where the rest goes."""

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.pd.route.common import ROUTING
from rbtk.cli.client import DEFAULT_URL, Token, Url


def list_rules(url: Url = DEFAULT_URL, token: Token = None) -> None:
    """List the routing rules: the first matching an event names its connectors."""
    rule_commands.list_rules(ROUTING, url, token)

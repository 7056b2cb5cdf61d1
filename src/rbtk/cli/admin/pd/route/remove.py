"""`rbtk admin pd route remove POSITION`: delete a routing rule; the ones after move up."""

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.pd.route.common import ROUTING, Position
from rbtk.cli.client import DEFAULT_URL, Token, Url


def remove(position: Position, url: Url = DEFAULT_URL, token: Token = None) -> None:
    """Remove the rule at POSITION."""
    rule_commands.remove(ROUTING, position, url, token)

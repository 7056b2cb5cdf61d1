"""`rbtk admin notify rules list`: the notification rules in order."""

import typer

from rbtk.cli.admin.notify.common import RULES
from rbtk.cli.admin.notify.rules.common import SHOWN, describe
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url


def list_rules(url: Url = DEFAULT_URL, token: Token = None) -> None:
    """List the rules: the first matching an event's project and type names its channels."""
    with Api(url, token) as api:
        rules = api.get(RULES, expect=SHOWN)["rules"]
    typer.echo("\n".join(describe(rules)))

"""`rbtk admin pd runbooks unset RULE`: stop linking a runbook from the rule's incidents."""

from typing import Annotated

import typer

from rbtk.cli.admin.pd.runbooks.list import PATH
from rbtk.cli.remote import remote
from rbtk.policy.rules import Rule


def unset(
    ctx: typer.Context,
    rule: Annotated[Rule, typer.Argument(metavar="RULE", help="A paging rule: pool_offline...")],
) -> None:
    """Remove a rule's runbook: its new incidents are paged without one."""
    server = remote(ctx)
    with server.api() as api:
        api.delete(f"{PATH}/{rule.value}")
    server.show(None, lambda _: [f"runbook of {rule.value} removed"])

"""`rbtk admin pd runbooks set RULE URL`: link a runbook from every incident the rule opens."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.runbooks.list import PATH
from rbtk.cli.remote import remote
from rbtk.policy.rules import Rule


def set_runbook(
    ctx: typer.Context,
    rule: Annotated[Rule, typer.Argument(metavar="RULE", help="A paging rule: pool_offline...")],
    url: Annotated[str, typer.Argument(metavar="URL", help="The runbook's http(s) address.")],
) -> None:
    """Set a rule's runbook: its new incidents link to it in PagerDuty."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.call("PUT", f"{PATH}/{rule.value}", body={"url": url}, expect=("rule", "url"))
    server.show(answer, describe)


def describe(answer: dict[str, Any]) -> list[str]:
    return [
        f"runbook of {answer['rule']} set to {answer['url']}: linked from the incidents it "
        "opens from now on"
    ]

"""`rbtk admin pd runbooks ...`: a runbook URL per paging rule, linked from its incidents."""

import typer

from rbtk.cli.admin.pd.runbooks import list as list_
from rbtk.cli.admin.pd.runbooks import set as set_
from rbtk.cli.admin.pd.runbooks import unset

app = typer.Typer(
    no_args_is_help=True,
    help="Runbook URLs per paging rule: PagerDuty shows each with the incidents it opens.",
)
app.command("list")(list_.list_runbooks)
app.command("set")(set_.set_runbook)
app.command("unset")(unset.unset)

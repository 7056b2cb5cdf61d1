"""`rbtk admin pd incidents ...`: what is firing, pending and held; resolve one by hand."""

import typer

from rbtk.cli.admin.pd.incidents import list as list_
from rbtk.cli.admin.pd.incidents import resolve

app = typer.Typer(
    no_args_is_help=True,
    help="Incidents: what is firing, pending or held, and resolving one by hand.",
)
app.command("list")(list_.list_incidents)
app.command("resolve")(resolve.resolve)

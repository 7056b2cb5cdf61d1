"""`rbtk admin pd suppressions ...`: list and end suppression windows."""

import typer

from rbtk.cli.admin.pd.suppressions import end
from rbtk.cli.admin.pd.suppressions import list as list_

app = typer.Typer(no_args_is_help=True, help="Suppression windows: list them, end one early.")
app.command("list")(list_.list_windows)
app.command("end")(end.end)

"""`rbtk admin pd storms ...`: storms and the members each one held."""

import typer

from rbtk.cli.admin.pd.storms import list as list_
from rbtk.cli.admin.pd.storms import show

app = typer.Typer(no_args_is_help=True, help="Storms: list them, show one and its members.")
app.command("list")(list_.list_storms)
app.command("show")(show.show)

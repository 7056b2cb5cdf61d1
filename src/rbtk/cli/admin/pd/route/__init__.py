"""`rbtk admin pd route ...`: the ordered rules choosing which connectors page for an event."""

import typer

from rbtk.cli.admin.pd.route import add, explain, move, remove
from rbtk.cli.admin.pd.route import list as list_

app = typer.Typer(
    no_args_is_help=True,
    help="Routing: ordered rules naming the connectors for a project or event type.",
)
app.command("list")(list_.list_rules)
app.command("add")(add.add)
app.command("remove")(remove.remove)
app.command("move")(move.move)
app.command("explain")(explain.explain)

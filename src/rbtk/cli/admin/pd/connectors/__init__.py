"""`rbtk admin pd connectors ...`: add, list, show, update, remove and check PagerDuty
connectors."""

import typer

from rbtk.cli.admin.pd.connectors import add, check, remove, show, update
from rbtk.cli.admin.pd.connectors import list as list_

app = typer.Typer(no_args_is_help=True, help="PagerDuty connectors: where pages are sent.")
app.command("add")(add.add)
app.command("list")(list_.list_connectors)
app.command("show")(show.show)
app.command("update")(update.update)
app.command("remove")(remove.remove)
app.command("check")(check.check)

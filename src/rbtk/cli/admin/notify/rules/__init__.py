"""`rbtk admin notify rules ...`: the ordered rules sending events to Slack or email."""

import typer

from rbtk.cli.admin.notify.rules import add, move, remove
from rbtk.cli.admin.notify.rules import list as list_

app = typer.Typer(
    no_args_is_help=True,
    help="Notification rules: ordered; the first matching an event names its channels.",
)
app.command("list")(list_.list_rules)
app.command("add")(add.add)
app.command("remove")(remove.remove)
app.command("move")(move.move)

"""`rbtk admin notify channels ...`: add, list, update and remove chat channels."""

import typer

from rbtk.cli.admin.notify.channels import add, remove, update
from rbtk.cli.admin.notify.channels import list as list_

app = typer.Typer(no_args_is_help=True, help="Channels: a Slack webhook or email addresses.")
app.command("add")(add.add)
app.command("list")(list_.list_channels)
app.command("update")(update.update)
app.command("remove")(remove.remove)

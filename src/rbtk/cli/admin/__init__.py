"""`rbtk admin ...`: administer a running rbtk through its HTTP API."""

import typer

from rbtk.cli.admin import notify, pd

app = typer.Typer(no_args_is_help=True, help="Administer a running rbtk through its API.")
app.add_typer(pd.app, name="pd")
app.add_typer(notify.app, name="notify")

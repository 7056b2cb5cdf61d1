"""`rbtk admin ...`: administer a running rbtk through its HTTP API."""

import typer

from rbtk.cli.admin import apply, audit, export, notify, pd, schema
from rbtk.cli.remote import connect

app = typer.Typer(
    no_args_is_help=True, help="Administer a running rbtk through its API.", callback=connect
)
app.add_typer(pd.app, name="pd")
app.add_typer(notify.app, name="notify")
app.command("export")(export.export)
app.command("apply")(apply.apply)
app.command("schema")(schema.schema)
app.command("audit")(audit.audit)

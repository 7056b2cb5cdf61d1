"""`rbtk admin pd ...`: PagerDuty connectors, test events and the delivery log."""

import typer

from rbtk.cli.admin.pd import connectors, log, test

app = typer.Typer(
    no_args_is_help=True, help="PagerDuty: connectors, test events, the delivery log."
)
app.add_typer(connectors.app, name="connectors")
app.command("test")(test.send_test_event)
app.command("log")(log.log)

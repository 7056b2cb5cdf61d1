"""`rbtk admin pd ...`: PagerDuty connectors, routing, runbooks, suppression, storms, test
events, the log, reconcile."""

import typer

from rbtk.cli.admin.pd import (
    connectors,
    incidents,
    log,
    reconcile,
    route,
    runbooks,
    storms,
    suppress,
    suppressions,
    test,
)

app = typer.Typer(
    no_args_is_help=True,
    help="PagerDuty: connectors, incidents, routing, runbooks, suppression windows, storms, "
    "test events, the delivery log, reconcile.",
)
app.add_typer(connectors.app, name="connectors")
app.command("test")(test.send_test_event)
app.command("log")(log.log)
app.command("reconcile")(reconcile.reconcile)
app.add_typer(route.app, name="route")
app.add_typer(runbooks.app, name="runbooks")
app.command("suppress")(suppress.suppress)
app.add_typer(suppressions.app, name="suppressions")
app.add_typer(storms.app, name="storms")
app.add_typer(incidents.app, name="incidents")

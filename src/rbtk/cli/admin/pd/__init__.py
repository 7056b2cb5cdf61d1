"""`rbtk admin pd ...`: PagerDuty connectors, routing, runbooks, suppression, storms, test
events, the log, reconcile, webhooks."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "connectors": "rbtk.cli.admin.pd.connectors:app",
        "test": "rbtk.cli.admin.pd.test:send_test_event",
        "log": "rbtk.cli.admin.pd.log:log",
        "reconcile": "rbtk.cli.admin.pd.reconcile:reconcile",
        "route": "rbtk.cli.admin.pd.route:app",
        "runbooks": "rbtk.cli.admin.pd.runbooks:app",
        "suppress": "rbtk.cli.admin.pd.suppress:suppress",
        "suppressions": "rbtk.cli.admin.pd.suppressions:app",
        "storms": "rbtk.cli.admin.pd.storms:app",
        "incidents": "rbtk.cli.admin.pd.incidents:app",
        "webhooks": "rbtk.cli.admin.pd.webhooks:app",
    },
    no_args_is_help=True,
    help="PagerDuty: connectors, incidents, routing, runbooks, suppression windows, storms, "
    "test events, the delivery log, reconcile, webhooks.",
)

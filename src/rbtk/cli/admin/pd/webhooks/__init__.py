"""`rbtk admin pd webhooks ...`: PagerDuty telling rbtk within seconds who acknowledged or
resolved its incidents."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "enable": "rbtk.cli.admin.pd.webhooks.enable:enable",
        "show": "rbtk.cli.admin.pd.webhooks.show:show",
        "ping": "rbtk.cli.admin.pd.webhooks.ping:ping",
        "disable": "rbtk.cli.admin.pd.webhooks.disable:disable",
    },
    no_args_is_help=True,
    help="PagerDuty webhooks: subscribe a connector, show, ping or delete its subscription.",
)

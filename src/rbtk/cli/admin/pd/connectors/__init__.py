"""`rbtk admin pd connectors ...`: add, list, show, update, remove and check PagerDuty
connectors."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "add": "rbtk.cli.admin.pd.connectors.add:add",
        "list": "rbtk.cli.admin.pd.connectors.list:list_connectors",
        "show": "rbtk.cli.admin.pd.connectors.show:show",
        "update": "rbtk.cli.admin.pd.connectors.update:update",
        "remove": "rbtk.cli.admin.pd.connectors.remove:remove",
        "check": "rbtk.cli.admin.pd.connectors.check:check",
    },
    no_args_is_help=True,
    help="PagerDuty connectors: where pages are sent.",
)

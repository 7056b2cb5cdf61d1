"""`rbtk admin pd incidents ...`: what is firing, pending and held; resolve one by hand."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "list": "rbtk.cli.admin.pd.incidents.list:list_incidents",
        "resolve": "rbtk.cli.admin.pd.incidents.resolve:resolve",
    },
    no_args_is_help=True,
    help="Incidents: what is firing, pending or held, and resolving one by hand.",
)

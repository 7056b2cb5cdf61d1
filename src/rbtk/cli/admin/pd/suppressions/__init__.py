"""`rbtk admin pd suppressions ...`: list and end suppression windows."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "list": "rbtk.cli.admin.pd.suppressions.list:list_windows",
        "end": "rbtk.cli.admin.pd.suppressions.end:end",
    },
    no_args_is_help=True,
    help="Suppression windows: list them, end one early.",
)

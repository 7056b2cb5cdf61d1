"""`rbtk admin pd storms ...`: storms and the members each one held."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "list": "rbtk.cli.admin.pd.storms.list:list_storms",
        "show": "rbtk.cli.admin.pd.storms.show:show",
    },
    no_args_is_help=True,
    help="Storms: list them, show one and its members.",
)

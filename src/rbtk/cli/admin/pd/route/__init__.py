"""`rbtk admin pd route ...`: the ordered rules choosing which connectors page for an event."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "list": "rbtk.cli.admin.pd.route.list:list_rules",
        "add": "rbtk.cli.admin.pd.route.add:add",
        "remove": "rbtk.cli.admin.pd.route.remove:remove",
        "move": "rbtk.cli.admin.pd.route.move:move",
        "explain": "rbtk.cli.admin.pd.route.explain:explain",
    },
    no_args_is_help=True,
    help="Routing: ordered rules naming the connectors for a project or event type.",
)

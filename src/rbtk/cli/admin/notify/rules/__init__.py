"""`rbtk admin notify rules ...`: the ordered rules sending events to Slack or email."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "list": "rbtk.cli.admin.notify.rules.list:list_rules",
        "add": "rbtk.cli.admin.notify.rules.add:add",
        "remove": "rbtk.cli.admin.notify.rules.remove:remove",
        "move": "rbtk.cli.admin.notify.rules.move:move",
    },
    no_args_is_help=True,
    help="Notification rules: ordered; the first matching an event names its channels.",
)

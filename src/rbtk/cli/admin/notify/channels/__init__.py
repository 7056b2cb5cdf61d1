"""`rbtk admin notify channels ...`: add, list, update and remove chat channels."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "add": "rbtk.cli.admin.notify.channels.add:add",
        "list": "rbtk.cli.admin.notify.channels.list:list_channels",
        "update": "rbtk.cli.admin.notify.channels.update:update",
        "remove": "rbtk.cli.admin.notify.channels.remove:remove",
    },
    no_args_is_help=True,
    help="Channels: a Slack webhook or email addresses.",
)

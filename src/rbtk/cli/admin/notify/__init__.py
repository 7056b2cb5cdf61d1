"""`rbtk admin notify ...`: chat channels (Slack, email, webhooks) for everything that does
not page, the rules choosing them, a test message, the delivery log."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "channels": "rbtk.cli.admin.notify.channels:app",
        "rules": "rbtk.cli.admin.notify.rules:app",
        "test": "rbtk.cli.admin.notify.test:send_test_message",
        "log": "rbtk.cli.admin.notify.log:log",
    },
    no_args_is_help=True,
    help="Slack, email and webhooks: channels, the rules choosing them, a test, the log.",
)

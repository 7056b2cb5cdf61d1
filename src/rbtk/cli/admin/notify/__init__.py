"""`rbtk admin notify ...`: chat channels (Slack, email, webhooks) for everything that does
not page, the rules choosing them, a test message, the delivery log."""

import typer

from rbtk.cli.admin.notify import channels, log, rules, test

app = typer.Typer(
    no_args_is_help=True,
    help="Slack, email and webhooks: channels, the rules choosing them, a test, the log.",
)
app.add_typer(channels.app, name="channels")
app.add_typer(rules.app, name="rules")
app.command("test")(test.send_test_message)
app.command("log")(log.log)

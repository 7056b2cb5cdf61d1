"""`rbtk admin notify ...`: Slack and email channels for everything that does not page."""

import typer

from rbtk.cli.admin.notify import channels, rules, test

app = typer.Typer(
    no_args_is_help=True, help="Slack and email: channels, the rules choosing them, a test."
)
app.add_typer(channels.app, name="channels")
app.add_typer(rules.app, name="rules")
app.command("test")(test.send_test_message)

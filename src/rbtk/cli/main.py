"""The `rbtk` command: each subcommand lives in its own module and registers here."""

import typer

from rbtk.cli import admin, demo, events, pd_emulator, secrets, serve, tokens

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Roboticks alert routing.")
app.command("serve")(serve.serve)
app.command("pd-emulator")(pd_emulator.pd_emulator)
app.command("demo")(demo.demo)
app.add_typer(tokens.app, name="tokens")
app.add_typer(secrets.app, name="secrets")
app.add_typer(events.app, name="events")
app.add_typer(admin.app, name="admin")

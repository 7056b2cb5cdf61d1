"""`rbtk secrets ...`: the secret key at rest, on the local database (like `rbtk tokens`)."""

import typer

from rbtk.cli.secrets import reset, rotate

app = typer.Typer(
    no_args_is_help=True,
    help="Rotate RBTK_SECRET_KEY, or enter the stored secrets again after losing it.",
)
app.command("rotate")(rotate.rotate)
app.command("reset")(reset.reset)

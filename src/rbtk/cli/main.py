"""The `rbtk` command: each subcommand lives in its own module and registers here."""

from typing import Annotated

import typer

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "serve": "rbtk.cli.serve:serve",
        "migrate": "rbtk.cli.migrate:migrate",
        "backup": "rbtk.cli.backup:backup",
        "restore": "rbtk.cli.restore:restore",
        "pd-emulator": "rbtk.cli.pd_emulator:pd_emulator",
        "demo": "rbtk.cli.demo:demo",
        "tokens": "rbtk.cli.tokens:app",
        "secrets": "rbtk.cli.secrets:app",
        "events": "rbtk.cli.events:app",
        "admin": "rbtk.cli.admin:app",
    },
    no_args_is_help=True,
)


def _version(shown: bool) -> None:
    if shown:
        from importlib.metadata import version as installed_version  # only when asked

        typer.echo(f"rbtk {installed_version('rbtk')}")
        raise typer.Exit()


@app.callback()
def rbtk(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print rbtk's version and exit."
        ),
    ] = False,
) -> None:
    """Roboticks alert routing."""

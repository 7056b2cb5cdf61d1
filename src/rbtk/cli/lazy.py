"""Command groups whose subcommands are imported when they are run, not when `rbtk` starts.

`rbtk admin pd log` imports the modules of that command and of the groups above it only;
the others (FastAPI for the emulator and the server, SQLAlchemy, configuration as code) stay
unloaded, so a command that talks to the API starts in a fraction of the time. A group names
each subcommand as "module:attribute": a Typer app (a group of its own) or a command
function, registered under that name as `app.add_typer` and `app.command` would.

Every rbtk app is made by `typer_app`, so each command's help reads the same.
"""

import importlib
from collections.abc import Mapping
from typing import Any, ClassVar

import typer
from typer import _click as click  # Typer's own copy of click, which its groups are built on
from typer.core import TyperGroup


class _LazyGroup(TyperGroup):
    subcommands: ClassVar[Mapping[str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        loaded = super().list_commands(ctx)
        return [*loaded, *(name for name in self.subcommands if name not in loaded)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.subcommands:
            self.add_command(_load(cmd_name, self.subcommands[cmd_name]), cmd_name)
        return super().get_command(ctx, cmd_name)


def typer_app(**options: Any) -> typer.Typer:
    """`typer.Typer(**options)` with click's plain help and no shell-completion options.

    Typer's rich help squeezes an option's type into a narrow column that, at 80 columns,
    breaks a choice list mid-word (`fail|ed`) and labels every flag `<bool>`; the plain help
    puts a long choice list whole on its own line and shows no type for a flag. `rbtk` offers
    no completion, so a subcommand offers none either.
    """
    return typer.Typer(rich_markup_mode=None, add_completion=False, **options)


def group(subcommands: Mapping[str, str], **options: Any) -> typer.Typer:
    """A Typer app (`typer_app(**options)`) whose subcommands load on first use."""
    lazy = type("LazyGroup", (_LazyGroup,), {"subcommands": dict(subcommands)})
    return typer_app(cls=lazy, **options)


def _load(name: str, target: str) -> click.Command:
    module, attribute = target.split(":")
    found = getattr(importlib.import_module(module), attribute)
    command: click.Command
    if isinstance(found, typer.Typer):
        command = typer.main.get_group(found)
    else:
        single = typer_app()
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command

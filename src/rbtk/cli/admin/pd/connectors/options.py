"""The connector commands' options for its settings, one per setting of
`rbtk.admin.connector_settings` (none written here): a flag is `--x/--no-x`, a number or a
choice `--x VALUE`, and a setting that may be none also takes `--no-x` to remove it."""

import functools
import inspect
from collections.abc import Callable
from enum import Enum, StrEnum
from typing import Annotated, Any, Literal, get_args, get_origin

import typer

from rbtk.admin.connector_settings import Leaf, leaves, nested
from rbtk.cli.common import fail


def with_settings(command: Callable[..., None]) -> Callable[..., None]:
    """`command` takes `settings`: what was given on the command line, nested as the API takes
    it (`{"storm": {"window_s": 120}}`), and only that: the server keeps the rest."""
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "settings"]
    added = [option for leaf in leaves() for option in _options(leaf)]

    @functools.wraps(command)
    def run(**given: Any) -> None:
        settings: dict[str, Any] = {}
        for leaf in leaves():
            value, removed = given.pop(leaf.name()), given.pop(_removed(leaf), False)
            if value is not None and removed:
                given_as = f"--{leaf.flag} {leaf.shown.metavar or 'VALUE'}"
                raise fail(f"give {given_as} or --no-{leaf.flag}, not both")
            if removed:
                settings[leaf.name()] = None
            elif value is not None:
                settings[leaf.name()] = value.value if isinstance(value, Enum) else value
        command(settings=nested(settings), **given)

    parameters = own + added
    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in parameters}
    return run


def flags() -> list[str]:
    """Every settings option, as `update` lists them when given none."""
    shown = []
    for leaf in leaves():
        if leaf.annotation is bool:
            shown.append(f"--{leaf.flag}/--no-{leaf.flag}")
        else:
            shown.append(f"--{leaf.flag}" + (f"/--no-{leaf.flag}" if leaf.nullable else ""))
    return shown


def _options(leaf: Leaf) -> list[inspect.Parameter]:
    help_text = leaf.description[:1].upper() + leaf.description[1:] + "."
    keyword = inspect.Parameter.KEYWORD_ONLY
    if leaf.annotation is bool:
        option = typer.Option(f"--{leaf.flag}/--no-{leaf.flag}", help=help_text)
        return [inspect.Parameter(leaf.name(), keyword, default=None,
                                  annotation=Annotated[bool | None, option])]  # fmt: skip
    kind: Any = leaf.annotation
    if get_origin(kind) is Literal:  # typer offers an Enum's values as the choices
        kind = StrEnum(leaf.name(), {str(a): str(a) for a in get_args(kind)})  # type: ignore[misc,no-redef]
    elif get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    if isinstance(kind, type) and issubclass(kind, Enum) and leaf.shown.metavar:
        # A metavar hides the choices: the help lists them, each whole.
        help_text = f"{help_text[:-1]}; one of {', '.join(str(m.value) for m in kind)}."
    option = typer.Option(f"--{leaf.flag}", metavar=leaf.shown.metavar, help=help_text)
    found = [inspect.Parameter(leaf.name(), keyword, default=None,
                               annotation=Annotated[kind | None, option])]  # fmt: skip
    if leaf.nullable:
        removes = typer.Option(f"--no-{leaf.flag}", help=f"Remove the {leaf.shown.label.lower()}.")
        found.append(inspect.Parameter(_removed(leaf), keyword, default=False,
                                       annotation=Annotated[bool, removes]))  # fmt: skip
    return found


def _removed(leaf: Leaf) -> str:
    return f"no_{leaf.name()}"

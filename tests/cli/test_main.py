"""`rbtk` itself: its version, and subcommands loaded only when they run (rbtk.cli.lazy)."""

import re
import subprocess
import sys
from importlib.metadata import version

import pytest
import typer
from typer.testing import CliRunner

from rbtk.cli.main import app

HEAVY = ("fastapi", "sqlalchemy", "uvicorn", "rbtk.config_file", "rbtk.emulator")


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"], prog_name="rbtk")

    assert (result.exit_code, result.stdout) == (0, f"rbtk {version('rbtk')}\n")


def loaded_after(*args: str) -> list[str]:
    """Which of HEAVY a fresh interpreter has imported after `rbtk ARGS`."""
    script = (
        "import sys\n"
        "from rbtk.cli.main import app\n"
        f"try:\n    app({list(args)!r}, prog_name='rbtk')\nexcept SystemExit:\n    pass\n"
        f"print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"RBTK_URL": "http://127.0.0.1:9", "RBTK_TOKEN": "rbtk_unused"},
    )
    [line] = [line for line in run.stdout.splitlines() if line.startswith("loaded:")]
    return [module for module in line.removeprefix("loaded:").split(",") if module]


@pytest.mark.parametrize(
    "command",
    [
        ["events", "send", "--help"],
        ["admin", "pd", "log", "--help"],
        ["admin", "pd", "connectors", "list", "--help"],
    ],
)
def test_a_command_that_talks_to_the_api_loads_neither_the_server_nor_the_database(
    command: list[str],
) -> None:
    assert loaded_after(*command) == []


def every_command() -> list[tuple[tuple[str, ...], list[str]]]:
    """Every command and group of `rbtk`, as the words that run it, with the choices of its
    options and arguments that take one of a list."""
    found: list[tuple[tuple[str, ...], list[str]]] = []

    def walk(command: typer.core.TyperCommand | typer.core.TyperGroup, words: list[str]) -> None:
        context = typer.Context(command)
        choices = [
            str(choice.value)
            for param in command.params
            if isinstance(param, typer.core.TyperOption | typer.core.TyperArgument)
            for choice in param.type_descriptor.choices or ()
        ]
        found.append((tuple(words), choices))
        if isinstance(command, typer.core.TyperGroup):
            for name in command.list_commands(context):  # loads each, as a run does
                sub = command.get_command(context, name)
                assert isinstance(sub, typer.core.TyperCommand | typer.core.TyperGroup)
                walk(sub, [*words, name])

    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    walk(root, [])
    return found


@pytest.mark.parametrize(("words", "choices"), every_command(), ids=lambda w: " ".join(w))
def test_help_at_80_columns_keeps_choice_lists_whole_and_gives_flags_no_type(
    words: tuple[str, ...], choices: list[str]
) -> None:
    result = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "80"}, prog_name="rbtk")

    assert (result.exit_code, result.stderr) == (0, "")
    assert "<bool>" not in result.stdout
    assert "--install-completion" not in result.stdout
    for choice in choices:  # each whole, not `fail|ed`
        assert re.search(rf"(?<!\w){choice}(?!\w)", result.stdout), choice

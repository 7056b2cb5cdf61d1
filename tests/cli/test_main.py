"""`rbtk` itself: its version, and subcommands loaded only when they run (rbtk.cli.lazy)."""

import subprocess
import sys
from importlib.metadata import version

import pytest
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

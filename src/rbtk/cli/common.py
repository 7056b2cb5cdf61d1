"""What the CLI commands share: settings that fail with one clear line."""

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rbtk.runtime.settings import Settings


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def local_actor() -> str:
    """Who the audit log says made a change written here, on the database itself rather than
    through the API (which knows the token's name): the operating system's user."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment nor the password database
        user = "unknown user"
    return f"cli (local: {user})"


def load_settings() -> "Settings":
    # Imported here: the commands that only talk to the API never need the settings.
    from pydantic import ValidationError

    from rbtk.channels.registry import check_lease
    from rbtk.runtime.settings import Settings

    try:
        settings = Settings()
        check_lease(settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"RBTK_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise fail(f"bad configuration: {problems}") from None
    except ValueError as exc:
        raise fail(f"bad configuration: {exc}") from None
    return settings


def require_database(settings: "Settings") -> None:
    """Refuse a command that only reads or mends the local database where there is none: on
    a mistyped data dir it must say so, not leave an empty database (or new keys) behind."""
    from rbtk.store.db import exists, shown

    database = settings.database
    if not exists(database):
        variable = "RBTK_DATABASE_URL" if settings.database_url else "RBTK_DATA_DIR"
        raise fail(f"no rbtk database at {shown(database)}; is {variable} right?")


def read_text(file: str) -> tuple[str, str]:
    """The text in FILE (`-` for stdin) and how to name it in an error; one line on failure."""
    label = "stdin" if file == "-" else file
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot read {label}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise fail(f"{label} is not UTF-8 text") from None
    return text, label


def read_json(file: str) -> tuple[Any, str]:
    """The JSON in FILE (`-` for stdin) and how to name it in an error; one line on failure."""
    text, label = read_text(file)
    try:
        return json.loads(text), label
    except json.JSONDecodeError as exc:
        raise fail(
            f"{label} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None

"""`rbtk migrate`: the database to this rbtk's schema, once per upgrade, then exit."""

import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from rbtk.cli.main import app
from rbtk.context import Context
from rbtk.store.db import head, is_current, make_engine, shown
from tests.conftest import kind_of
from tests.databases import Templates, empty
from tests.e2e.processes import RBTK


def migrate(monkeypatch: pytest.MonkeyPatch, **env: str) -> Result:
    root = logging.getLogger()  # `migrate` sets up logging: undone after the test
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    return CliRunner().invoke(app, ["migrate"], env=env, prog_name="rbtk")


@pytest.fixture
def empty_database_url(database_url: str, templates: Templates, tmp_path: Path) -> Iterator[str]:
    (tmp_path / "empty").mkdir()
    with empty(kind_of(database_url), templates, tmp_path / "empty") as url:
        yield url


def test_migrate_creates_a_new_data_dirs_database_and_says_from_what_to_what(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = migrate(monkeypatch, RBTK_DATA_DIR=str(tmp_path / "data"))

    database = f"sqlite:///{tmp_path / 'data' / 'rbtk.db'}"
    assert (result.exit_code, result.stdout) == (
        0,
        f"{database}: migrated from nothing to {head()}\n",
    )
    engine = make_engine(database)
    try:
        assert is_current(engine)
    finally:
        engine.dispose()


def test_migrate_on_a_current_database_says_there_was_nothing_to_do(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = context.settings.database

    result = migrate(monkeypatch, RBTK_DATABASE_URL=url)

    assert (result.exit_code, result.stdout) == (
        0,
        f"{shown(url)}: already at this rbtk's schema ({head()})\n",
    )


def test_migrate_refuses_a_database_a_newer_rbtk_migrated_in_one_line(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    with context.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    url = context.settings.database

    result = migrate(monkeypatch, RBTK_DATABASE_URL=url)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines()[-1] == (
        f"error: cannot migrate {shown(url)}: the database's schema (9999) is newer than this "
        f"rbtk's ({head()}): a newer rbtk migrated it; run that release"
    )


@pytest.mark.both_databases
def test_two_migrations_at_once_take_turns_and_the_second_finds_nothing_to_do(
    empty_database_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "RBTK_DATABASE_URL": empty_database_url, "RBTK_DATA_DIR": str(tmp_path)}
    runs = [
        subprocess.Popen(
            [RBTK, "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    where = shown(empty_database_url)
    assert sorted(out for out, _ in outputs) == [
        f"{where}: already at this rbtk's schema ({head()})\n",
        f"{where}: migrated from nothing to {head()}\n",
    ]

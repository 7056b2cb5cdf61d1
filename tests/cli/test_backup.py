"""`rbtk backup` and `rbtk restore` on a stopped or served data dir: what they refuse, in one
line each, and what they leave behind. The copy under load is tested end to end
(tests/e2e/test_backup.py)."""

import os
import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner, Result

from rbtk.cli.main import app
from rbtk.context import Context
from rbtk.runtime.data_dir import hold_while_serving
from rbtk.store.db import head
from tests.conftest import now
from tests.factories import add_connector


def rbtk(*args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env, prog_name="rbtk")


@pytest.fixture
def copy(context: Context, tmp_path: Path) -> Path:
    """A backup of the suite's database holding one connector, and the key it needs."""
    add_connector(context, now=now())
    file = tmp_path / "copy.db"
    result = rbtk("backup", str(file), **environment(context))
    assert result.exit_code == 0, result.stderr
    return file


def environment(context: Context) -> dict[str, str]:
    key = context.settings.secret_key
    assert key is not None and context.settings.database_url is not None
    return {
        "RBTK_DATABASE_URL": context.settings.database_url,
        "RBTK_DATA_DIR": str(context.settings.data_dir),
        "RBTK_SECRET_KEY": key.get_secret_value(),
    }


def restoring_into(data_dir: Path, context: Context) -> dict[str, str]:
    key = context.settings.secret_key
    assert key is not None
    return {"RBTK_DATA_DIR": str(data_dir), "RBTK_SECRET_KEY": key.get_secret_value()}


def test_backup_writes_a_single_file_only_its_owner_reads_and_says_where_the_key_is(
    context: Context, copy: Path
) -> None:
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    assert not Path(f"{copy}-wal").exists()
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert connection.execute("SELECT name FROM connectors").fetchall() == [("pd-production",)]


def test_backup_says_the_key_is_the_data_dirs_secret_key_file_when_none_is_set(
    context: Context, tmp_path: Path
) -> None:
    env = {k: v for k, v in environment(context).items() if k != "RBTK_SECRET_KEY"}
    data_dir = context.settings.data_dir

    result = rbtk("backup", str(tmp_path / "b.db"), **env)

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"its integration keys and webhook URLs are encrypted with {data_dir / 'secret.key'}: "
        "keep that key with the backup, stored apart from it; rbtk cannot send with the copy "
        "without it"
    )


def test_backup_never_overwrites_a_file(context: Context, copy: Path) -> None:
    result = rbtk("backup", str(copy), **environment(context))

    assert (result.exit_code, result.stderr) == (
        1,
        f"error: {copy} already exists; name a new file\n",
    )


def test_backup_of_a_data_dir_with_no_database_says_so(tmp_path: Path) -> None:
    result = rbtk("backup", str(tmp_path / "b.db"), RBTK_DATA_DIR=str(tmp_path / "typo"))

    assert result.exit_code == 1
    assert result.stderr.startswith("error: no rbtk database at sqlite:///")
    assert not (tmp_path / "typo").exists()


def test_backup_on_postgresql_prints_the_pg_dump_command_instead_of_copying(
    tmp_path: Path,
) -> None:
    url = "postgresql+psycopg://rbtk:secret@db.internal:5432/rbtk"

    result = rbtk("backup", "rbtk.dump", RBTK_DATABASE_URL=url, RBTK_DATA_DIR=str(tmp_path))

    assert (result.exit_code, result.stderr) == (
        1,
        "error: the database is PostgreSQL, which rbtk does not copy: back it up with "
        "`pg_dump --format=custom --file=rbtk.dump 'postgresql://rbtk@db.internal:5432/rbtk'` "
        "(docs/deploy.md)\n",
    )


def test_restore_into_a_fresh_data_dir_makes_its_database_the_backup(
    context: Context, copy: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh"

    result = rbtk("restore", str(copy), **restoring_into(fresh, context))

    assert (result.exit_code, result.stdout) == (
        0,
        f"restored {copy} into {fresh / 'rbtk.db'} (schema {head()})\n",
    )
    with sqlite3.connect(fresh / "rbtk.db") as connection:
        assert connection.execute("SELECT name FROM connectors").fetchall() == [("pd-production",)]


def test_restore_refuses_a_data_dir_holding_a_database_unless_told_to_replace_it(
    context: Context, copy: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "rbtk.db").write_bytes(b"")
    Path(f"{fresh / 'rbtk.db'}-wal").write_bytes(b"an old write-ahead log")
    env = restoring_into(fresh, context)

    refused = rbtk("restore", str(copy), **env)
    replaced = rbtk("restore", "--replace", str(copy), **env)

    assert (refused.exit_code, refused.stderr) == (
        1,
        f"error: {fresh / 'rbtk.db'} already holds a database; add --replace to replace it\n",
    )
    assert replaced.exit_code == 0, replaced.stderr
    assert not Path(f"{fresh / 'rbtk.db'}-wal").exists()  # never applied to the new file


def test_restore_refuses_a_data_dir_that_rbtk_serve_is_using(
    context: Context, copy: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh"
    held = hold_while_serving(fresh)  # as `rbtk serve` holds its data dir
    try:
        result = rbtk("restore", str(copy), **restoring_into(fresh, context))
    finally:
        os.close(held)

    assert (result.exit_code, result.stderr) == (
        1,
        f"error: rbtk serve is running on {fresh}; stop it first\n",
    )
    assert not (fresh / "rbtk.db").exists()


def test_restore_refuses_a_backup_its_secret_key_cannot_decrypt(
    context: Context, copy: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh"
    other = Fernet.generate_key().decode()

    result = rbtk("restore", str(copy), RBTK_DATA_DIR=str(fresh), RBTK_SECRET_KEY=other)

    assert (result.exit_code, result.stderr) == (
        1,
        "error: RBTK_SECRET_KEY cannot decrypt the backup's secrets: bring the key the backup "
        "was taken with\n",
    )
    assert not (fresh / "rbtk.db").exists()


def test_restore_without_a_key_yet_says_to_bring_the_backups(
    context: Context, copy: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh"

    result = rbtk("restore", str(copy), RBTK_DATA_DIR=str(fresh))

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"put the secret.key the backup was taken with into {fresh} (or set RBTK_SECRET_KEY) "
        "before starting rbtk: its secrets are encrypted with it"
    )
    assert not (fresh / "secret.key").exists()


def test_restore_refuses_a_file_that_is_not_an_rbtk_database(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("not a database")

    result = rbtk("restore", str(file), RBTK_DATA_DIR=str(tmp_path / "fresh"))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {file} is not a SQLite database: ")

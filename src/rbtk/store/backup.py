"""A consistent copy of a SQLite database, taken while rbtk writes to it, and put back.

The copy is SQLite's online backup (`sqlite3.Connection.backup`) in one step: it reads the
database inside one read transaction, so it is the database as of one commit, and in WAL
mode the writers go on meanwhile (a reader never blocks them). It is written beside its
destination and renamed into place once complete and synced, so a crash or a full disk never
leaves half a copy under the destination's name. The copy is a single file (journal mode
DELETE): nothing else needs to travel with it but the secret key its secrets need.

PostgreSQL is backed up with its own tools (pg_dump, pg_restore): see `pg_dump_command`.
"""

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class NotADatabase(Exception):
    """The file is not an rbtk SQLite database (or is damaged)."""


@dataclass(frozen=True)
class Copied:
    bytes: int
    revision: str | None  # the migration the copy is at


def copy(source: Path, destination: Path) -> Copied:
    """Copy the SQLite database at `source` to `destination` (which must not exist)."""
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    # Only its owner may read a copy: it holds the events and the encrypted secrets.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        writer = sqlite3.connect(partial)
        try:
            reader.backup(writer)  # one step: one read transaction, one commit's state
            writer.execute("PRAGMA journal_mode=DELETE")
            revision = _revision(writer)
        finally:
            writer.close()
    finally:
        reader.close()
    _sync(partial)
    os.replace(partial, destination)
    _sync(destination.parent)
    return Copied(bytes=destination.stat().st_size, revision=revision)


def check(file: Path) -> str:
    """The migration the rbtk database in `file` is at; NotADatabase when it is not one."""
    try:
        connection = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise NotADatabase(f"{file} cannot be opened: {exc}") from None
    try:
        [verdict] = connection.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise NotADatabase(f"{file} is damaged: {verdict}")
        revision = _revision(connection)
    except sqlite3.DatabaseError as exc:
        raise NotADatabase(f"{file} is not a SQLite database: {exc}") from None
    finally:
        connection.close()
    if revision is None:
        raise NotADatabase(f"{file} is not an rbtk database (it has no rbtk schema)")
    return revision


def put_back(backup: Path, database: Path) -> Copied:
    """Make `database` a copy of `backup`, replacing what is there: the caller has made sure
    nothing is using it. The old database's WAL and shared-memory files go first: left
    beside the new file, SQLite would apply the old WAL to it."""
    database.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (f"{database}-wal", f"{database}-shm"):
        Path(leftover).unlink(missing_ok=True)
    return copy(backup, database)


def pg_dump_command(database_url: str, file: str) -> str:
    """The pg_dump command that backs up this PostgreSQL database, without its password
    (pg_dump reads PGPASSWORD or ~/.pgpass)."""
    url = make_url(database_url)
    bare = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return f"pg_dump --format=custom --file={file} '{bare.render_as_string()}'"


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table
        return None
    return str(row[0]) if row else None


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

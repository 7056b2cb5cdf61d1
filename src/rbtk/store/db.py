"""Database engine set-up and migrations for SQLite (default) and PostgreSQL."""

import fcntl
import functools
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Select, create_engine, event, func, select
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_S = 30.0  # how long a statement waits for a lock another connection holds


class _OnlyMigrations(logging.Filter):
    """Alembic says which kind of database it talks to each time a revision is read: two
    lines per /readyz probe, and before a refusal's one line. Only what a migration does
    ("Running upgrade 0017 -> 0018, ...") is logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Context impl", "Will assume"))


logging.getLogger("alembic.runtime.migration").addFilter(_OnlyMigrations())


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args: dict[str, Any] = {"isolation_level": None, "timeout": BUSY_TIMEOUT_S}
        if parsed.database and parsed.database != ":memory:":
            connect_args["factory"] = _taking_turns(f"{parsed.database}-writer.lock")
        engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def reads_only(engine: Engine) -> Engine:
    """The same database, for transactions that only read: on SQLite they never take the
    write lock, so a page or a token lookup never queues behind a commit (WAL lets readers
    and the one writer work at once)."""
    return engine.execution_options(rbtk_reads_only=True)


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get("rbtk_reads_only"):
        connection.exec_driver_sql("BEGIN")
    else:
        # SQLite has one writer: take the write lock when a transaction starts, so a
        # read-then-write transaction never fails half-way with "database is locked".
        _begin_immediate(connection)


def _begin_immediate(connection: Connection) -> None:
    """Take the write lock, after this connection's turn among rbtk's writers
    (`_TakesTurns`); a writer from elsewhere (the sqlite3 shell) is waited for by SQLite's
    busy handler, up to BUSY_TIMEOUT_S."""
    raw = connection.connection.driver_connection
    if isinstance(raw, _TakesTurns):
        raw.take_turn()
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if isinstance(raw, _TakesTurns):
            raw.end_turn()
        raise


class _TakesTurns(sqlite3.Connection):
    """A connection that writes only in its turn: an exclusive flock on a file beside the
    database, held from BEGIN IMMEDIATE to COMMIT or ROLLBACK.

    SQLite has no queue for its write lock: a writer that finds it taken can only try again
    later. With the API's writer and the delivery process both writing, those tries were
    most of their time, and each try that came too late cost a page milliseconds. A waiter
    for a flock sleeps in the kernel (the GIL released) and wakes when the holder is done;
    the kernel frees the lock of a process that dies, so a kill -9 never leaves it held.

    A thread that already holds the turn (a transaction opened inside another) does not wait
    for itself: its second transaction waits for SQLite's lock as any other writer would,
    and fails after BUSY_TIMEOUT_S with SQLite's usual "database is locked"."""

    lock_path = ""
    _turn_fd: int | None = None
    _in_turn = False
    _holders = threading.local()  # per thread: the lock files it holds the turn of

    def take_turn(self) -> None:
        held: set[str] = self._holders.__dict__.setdefault("paths", set())
        if self.lock_path in held:
            return
        if self._turn_fd is None:
            self._turn_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._turn_fd, fcntl.LOCK_EX)
        self._in_turn = True
        held.add(self.lock_path)

    def end_turn(self) -> None:
        if self._in_turn and self._turn_fd is not None:
            self._in_turn = False
            self._holders.__dict__.setdefault("paths", set()).discard(self.lock_path)
            fcntl.flock(self._turn_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            fd, self._turn_fd, self._in_turn = self._turn_fd, None, False
            if fd is not None:
                os.close(fd)  # closing the file frees its lock


def _taking_turns(lock_path: str) -> type[_TakesTurns]:
    return type("TakesTurns", (_TakesTurns,), {"lock_path": lock_path})


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: every commit waits for the WAL to reach the disk, so an event answered 2xx
    # survives a power cut, not only a crash of rbtk (NORMAL's promise). Commits are grouped
    # (intake/writer.py, the delivery worker's passes): the fsync is paid per group, not per
    # event.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def shown(database_url: str) -> str:
    """A database URL as it may be logged or printed: never its password."""
    return make_url(database_url).render_as_string(hide_password=True)


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def count_up_to(connection: Connection, query: Select[Any], most: int) -> int:
    """How many rows `query` selects, counting no further than `most`: the cost stays the
    same however many there are (storm and digest thresholds only ask "more than N?")."""
    limited = query.limit(most).subquery()
    return int(connection.execute(select(func.count()).select_from(limited)).scalar_one())


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> str | None:
    """Bring the schema to the newest revision; safe to run from several instances.
    Answers the revision it found (None: an empty database), read in its turn, so of two
    run at once the second says it found the schema current."""
    with engine.begin() as connection:
        if is_postgres(connection):
            # One migrator at a time when several instances start together.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7262010)")
        # Alembic's upgrade loads its whole environment even when there is nothing to do;
        # asking first makes a start on a current database (every start but the first
        # after an upgrade) a single query.
        found = _revision(connection)
        if found != _head():
            command.upgrade(_alembic_config(connection), "head")
    return found


def exists(url: str) -> bool:
    """Whether URL holds an rbtk database (migrated at least once), found out without creating
    one: connecting to a SQLite file that is not there would create it, so it is looked for
    first."""
    parsed = make_url(url)
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not Path(file).is_file():
        return False
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return _revision(connection) is not None
    finally:
        engine.dispose()


def is_current(engine: Engine) -> bool:
    with engine.connect() as connection:
        return _revision(connection) == _head()


def revision(engine: Engine) -> str | None:
    """The migration the database is at; None when it has no rbtk schema yet."""
    with engine.connect() as connection:
        return _revision(connection)


def head() -> str | None:
    """The migration this rbtk's code uses."""
    return _head()


def knows(revision: str) -> bool:
    """Whether `revision` is one of this rbtk's migrations (not a newer release's)."""
    return revision in _known()


def schema_problem(engine: Engine) -> str | None:
    """Why this rbtk cannot serve the database's schema as it is, saying what to do; None
    when it is at this rbtk's newest migration. A replica (`rbtk serve --no-migrate`) and
    /readyz say it; only `rbtk migrate` (or a plain `rbtk serve`) changes it."""
    at, newest = revision(engine), _head()
    if at == newest:
        return None
    if at is None:
        return f"the database has no rbtk schema yet (this rbtk's is {newest}): run `rbtk migrate`"
    if not knows(at):
        return (
            f"the database's schema ({at}) is newer than this rbtk's ({newest}): a newer rbtk "
            "migrated it; run that release"
        )
    return f"the database's schema ({at}) is behind this rbtk's ({newest}): run `rbtk migrate`"


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


@functools.cache
def _head() -> str | None:
    return _scripts().get_current_head()


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())

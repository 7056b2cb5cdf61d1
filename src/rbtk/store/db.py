"""Database engine set-up and migrations for SQLite (default) and PostgreSQL."""

import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_S = 30.0  # how long a statement waits for a lock another connection holds
_BEGIN_RETRY_S = 0.0005


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"isolation_level": None, "timeout": BUSY_TIMEOUT_S}
        )
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
    """Wait for the write lock by trying again every half millisecond. SQLite's own busy
    handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries: with two processes writing
    (the API's ingest writer, the delivery process) a page lost milliseconds at each turn."""
    raw = connection.connection.driver_connection
    assert raw is not None
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    break
            time.sleep(_BEGIN_RETRY_S)
        # Out of time, or another error: fail as any statement does, with SQLAlchemy's error.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: every commit waits for the WAL to reach the disk, so an event answered 2xx
    # survives a power cut, not only a crash of rbtk (NORMAL's promise). Commits are grouped
    # (intake/writer.py, the delivery recorder), so the fsync is paid per group, not per event.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to run from several instances."""
    with engine.begin() as connection:
        if is_postgres(connection):
            # One migrator at a time when several instances start together.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7262010)")
        command.upgrade(_alembic_config(connection), "head")


def is_current(engine: Engine) -> bool:
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()
        return current == head

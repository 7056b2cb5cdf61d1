"""What keeps the store from taking writes: a full disk, a full or read-only database.

Both the readiness checks and the translation of a failed write into an answer live here,
so "full" means the same thing in /readyz and in a refused event.
"""

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

# Below this much free space a SQLite database is about to fail its writes: not ready.
MIN_FREE_PAGES = 64  # room for one batch of events, at SQLite's default 4 KiB pages
MIN_FREE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def storage_problem(exc: BaseException) -> str | None:
    """Why a write failed, when the cause is the store's (full, read-only, unreachable) and
    a retry later can succeed; None for any other error."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(cause, sqlite3.Error):
        code = getattr(cause, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_FULL:
            return "the database or its disk is full"
        if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
            return f"the database cannot write to its disk: {_first_line(cause)}"
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return "the database is busy"
        return None
    if isinstance(cause, psycopg.errors.DiskFull | psycopg.errors.OutOfMemory):
        return f"the database server is out of space: {_first_line(cause)}"
    if isinstance(cause, psycopg.errors.ReadOnlySqlTransaction):
        return "the database is read-only"
    if isinstance(cause, psycopg.OperationalError):
        return f"the database is unavailable: {_first_line(cause)}"
    return None


def disk(engine: Engine) -> Check:
    """Free space where the SQLite file lives; PostgreSQL's disk is its server's, and shows
    in `writable` instead."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return Check(True, "the database server keeps its own disk")
    directory = Path(str(engine.url.database)).resolve().parent
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent  # the disk it will be on, when it is not made yet
    try:
        free = shutil.disk_usage(directory).free
    except OSError as exc:
        return Check(False, f"cannot read the free space at {directory}: {exc.strerror}")
    mib = f"{free / 2**20:.1f} MiB free at {directory}"
    if free < MIN_FREE_BYTES:
        return Check(False, f"disk is full: {mib}; free some space (events are refused)")
    return Check(True, mib)


def writable(engine: Engine) -> Check:
    """Try a write that needs a new page, then roll it back: SQLite at its size limit or on
    a full disk, or PostgreSQL read-only or out of space, fails here as a real write would."""
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                room = _sqlite_room(connection)
                if room is not None:
                    return room
            transaction = connection.begin()
            try:
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SET LOCAL lock_timeout = '2s'"))
                    connection.execute(text("CREATE TEMPORARY TABLE rbtk_write_probe (x int)"))
                else:
                    connection.execute(text("CREATE TABLE rbtk_write_probe (x INTEGER)"))
                connection.execute(text("INSERT INTO rbtk_write_probe VALUES (1)"))
            finally:
                transaction.rollback()
    except DBAPIError as exc:
        problem = storage_problem(exc) or _first_line(exc.orig or exc)
        return Check(False, f"database is not writable: {problem}")
    return Check(True, "a write succeeds")


def _sqlite_room(connection: Connection) -> Check | None:
    """A failing check when SQLite is within a few pages of its size limit. The probe's
    write alone can fit in a page freed earlier (a migration rebuilding a table leaves
    some) while every real batch needs more."""
    limit = connection.exec_driver_sql("PRAGMA max_page_count").scalar_one()
    used = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
    free = connection.exec_driver_sql("PRAGMA freelist_count").scalar_one()
    connection.rollback()  # end the reads' implicit transaction: the probe begins its own
    if limit - used + free < MIN_FREE_PAGES:
        return Check(
            False, "database is not writable: it is full (at its size limit, max_page_count)"
        )
    return None


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip()
    return (text_.splitlines() or [""])[0][:300]

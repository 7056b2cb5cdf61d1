"""The database as every part of rbtk opens it."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from rbtk.store import db
from rbtk.store.db import exists, make_engine, migrate, reads_only
from rbtk.store.tables import events
from tests.conftest import kind_of
from tests.databases import Templates, empty


def test_on_sqlite_a_read_never_waits_for_a_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rbtk.db'}")
    migrate(engine)
    read: list[int] = []
    try:
        with engine.begin() as writing:  # holds the write lock until the block ends
            writing.execute(text("UPDATE events SET type = type"))

            def reader() -> None:
                with reads_only(engine).connect() as connection:
                    read.append(len(connection.execute(select(events.c.id)).all()))

            thread = threading.Thread(target=reader)
            thread.start()
            thread.join(timeout=5)  # a reader taking the write lock would wait up to 30 s

            assert read == [0]
    finally:
        engine.dispose()


def test_on_sqlite_a_commit_waits_for_the_disk(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rbtk.db'}")
    try:
        with engine.connect() as connection:
            synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        assert synchronous == 2  # FULL: an answered event survives a power cut
    finally:
        engine.dispose()


def test_on_sqlite_a_writer_waiting_for_another_goes_on_once_it_commits(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rbtk.db'}")
    migrate(engine)
    seen: list[object] = []
    holding, waiting = threading.Event(), threading.Event()

    def holder() -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE events SET type = type"))
            holding.set()
            waiting.wait(5)

    def writer() -> None:
        holding.wait(5)
        with engine.begin() as connection:
            seen.append(connection.exec_driver_sql("PRAGMA busy_timeout").scalar())

    try:
        threads = [threading.Thread(target=holder), threading.Thread(target=writer)]
        for thread in threads:
            thread.start()
        holding.wait(5)
        time.sleep(0.05)  # the writer is waiting for the lock by now
        assert seen == []
        waiting.set()
        for thread in threads:
            thread.join(5)

        assert seen == [30000]  # and statements inside it wait as long as ever
    finally:
        engine.dispose()


def test_on_sqlite_a_writer_that_waits_too_long_gets_the_usual_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)
    engine = make_engine(f"sqlite:///{tmp_path / 'rbtk.db'}")
    migrate(engine)
    try:
        with engine.begin() as holding:
            holding.execute(text("UPDATE events SET type = type"))
            with (
                pytest.raises(OperationalError, match="database is locked"),
                engine.begin() as connection,
            ):
                connection.execute(text("UPDATE events SET type = type"))
    finally:
        engine.dispose()


def test_on_sqlite_a_writer_killed_in_its_turn_holds_up_no_one(tmp_path: Path) -> None:
    """Writers take turns through a lock file the kernel frees when its holder dies: a
    process killed with -9 in the middle of a transaction leaves no one waiting for it."""
    url = f"sqlite:///{tmp_path / 'rbtk.db'}"
    engine = make_engine(url)
    migrate(engine)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from sqlalchemy import text\n"
            "from rbtk.store.db import make_engine\n"
            f"engine = make_engine({url!r})\n"
            "with engine.begin() as connection:\n"
            "    connection.execute(text('UPDATE events SET type = type'))\n"
            "    print('holding', flush=True)\n"
            "    time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"holding\n"
        assert (tmp_path / "rbtk.db-writer.lock").exists()
        holder.kill()
        holder.wait(5)
        started = time.monotonic()
        with engine.begin() as connection:
            connection.execute(text("UPDATE events SET type = type"))
        assert time.monotonic() - started < 5  # not the holder's 60 s, nor the 30 s timeout
    finally:
        holder.kill()
        holder.wait(5)
        if holder.stdout is not None:
            holder.stdout.close()
        engine.dispose()


def test_exists_tells_an_rbtk_database_from_an_empty_one(
    database_url: str, templates: Templates, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    with empty(kind_of(database_url), templates, tmp_path / "empty") as empty_url:
        engine = make_engine(empty_url)
        engine.connect().close()  # a SQLite file now, with no table in it
        engine.dispose()
        assert (exists(database_url), exists(empty_url)) == (True, False)


def test_exists_creates_no_sqlite_file_where_there_is_none(tmp_path: Path) -> None:
    missing = tmp_path / "mistyped" / "rbtk.db"

    assert not exists(f"sqlite:///{missing}")
    assert not missing.parent.exists()

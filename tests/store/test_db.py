"""The database as every part of rbtk opens it."""

import threading
from pathlib import Path

from sqlalchemy import select, text

from rbtk.store.db import make_engine, migrate, reads_only
from rbtk.store.tables import events


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

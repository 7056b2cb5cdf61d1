"""A full disk or database: events are refused with a JSON 503 (never acknowledged and lost),
and /readyz says which check fails."""

import errno
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from rbtk.access import tokens
from rbtk.app import create_app
from rbtk.context import Context, open_context
from rbtk.runtime.settings import Settings
from rbtk.store.tables import events
from tests.factories import pool_offline

NOW = datetime.now(UTC)


def batch(size: int) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {"events": [pool_offline(f"{tag}-{i}", NOW, f"pool-{i}") for i in range(size)]}


def stored(context: Context) -> int:
    with context.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(events)).scalar_one())


@contextmanager
def serve(context: Context) -> Iterator[TestClient]:
    with context.engine.begin() as connection:
        _, token = tokens.create(connection, scope=tokens.Scope.ADMIN, name="t", now=NOW)
    with TestClient(create_app(context, workers=False)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def assert_refused_for_storage(answer: Any) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["retry-after"] == "30"
    detail = answer.json()["detail"]
    assert "not stored" in detail
    assert "retry" in detail


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a real filesystem that fills up. Skipped only where mounting fails."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def fill(directory: Path) -> Path:
    filler = directory / "filler"
    # Unbuffered: a buffered file would try to write its rest again when closed.
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                os.fsync(out.fileno())
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@pytest.fixture
def sqlite_context(tmp_path: Path) -> Iterator[Context]:
    """SQLite only: the full disk is the SQLite file's; PostgreSQL's is its server's."""
    yield from _context(tmp_path)


def _context(data_dir: Path) -> Iterator[Context]:
    settings = Settings(
        data_dir=data_dir, secret_key=Fernet.generate_key().decode(), base_url="https://r.test"
    )
    context = open_context(settings)
    try:
        yield context
    finally:
        context.engine.dispose()


def test_a_full_disk_refuses_events_with_a_json_503_and_readyz_names_the_disk(
    small_disk: Path,
) -> None:
    for context in _context(small_disk):
        with serve(context) as client:
            before = stored(context)
            filler = fill(small_disk)

            answer = client.post("/api/v1/events", json=batch(300))

            assert_refused_for_storage(answer)
            assert stored(context) == before  # nothing acknowledged, nothing half-stored
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] == "unavailable"
            assert ready.json()["checks"]["disk"]["ok"] is False
            assert "free" in ready.json()["checks"]["disk"]["detail"]
            # One verdict: a probe that fits in a page freed earlier is no sign of room.
            assert ready.json()["checks"]["database_writable"] == {
                "ok": False,
                "detail": "database is not writable: the disk under it is full (see disk)",
            }

            filler.unlink()  # the operator frees space: rbtk takes events again at once
            again = client.post("/api/v1/events", json=batch(300))
            assert (again.status_code, again.json()["accepted"]) == (200, 300)
            assert client.get("/readyz").status_code == 200


def test_a_database_at_its_size_limit_refuses_events_and_readyz_says_not_writable(
    sqlite_context: Context,
) -> None:
    context = sqlite_context
    with serve(context) as client:
        check_refused_at_the_size_limit(context, client)


def check_refused_at_the_size_limit(context: Context, client: TestClient) -> None:
    before = stored(context)

    @event.listens_for(context.engine, "connect")
    def _at_its_limit(dbapi_connection: Any, _record: Any) -> None:
        # SQLite's own limit on the file's size: every write that needs a page more fails
        # with SQLITE_FULL, "database or disk is full", as a full disk does.
        cursor = dbapi_connection.cursor()
        (pages,) = cursor.execute("PRAGMA page_count").fetchone()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    context.engine.dispose()

    answer = client.post("/api/v1/events", json=batch(300))

    assert_refused_for_storage(answer)
    assert "full" in answer.json()["detail"]
    assert stored(context) == before
    ready = client.get("/readyz")
    assert ready.status_code == 503
    writable = ready.json()["checks"]["database_writable"]
    assert writable["ok"] is False
    assert "full" in writable["detail"]
    assert ready.json()["checks"]["secret_key"]["ok"] is True

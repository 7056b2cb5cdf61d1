"""Whether an `rbtk serve` is using a data dir: a lock it holds for as long as it runs.

`rbtk restore` must never swap the database from under a running rbtk (the server would go
on writing into a file that is no longer the database, or into a WAL that no longer belongs
to it). Each serve holds a shared flock on `serve.lock` in its data dir; a restore asks for
an exclusive one without waiting, is refused while any serve holds its share, and holds it
until it is done, so a serve started meanwhile waits for the restored database. The
kernel frees the lock with the process, so a serve killed with SIGKILL leaves nothing held.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "serve.lock"


def hold_while_serving(data_dir: Path) -> int:
    """Mark `data_dir` as served until this process exits; answers the lock's descriptor
    (kept open: closing it would free the lock)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


class Served(Exception):
    """An `rbtk serve` is using the data dir."""


@contextmanager
def kept_from_serving(data_dir: Path) -> Iterator[None]:
    """No `rbtk serve` uses `data_dir` until the block ends: Served if one does now, and one
    that starts meanwhile waits for its lock until the block is done."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Served(f"rbtk serve is running on {data_dir}") from None
        yield
    finally:
        os.close(fd)  # frees the lock

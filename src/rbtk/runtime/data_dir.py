"""Whether an `rbtk serve` is using a data dir: a lock it holds for as long as it runs.

`rbtk restore` must never swap the database from under a running rbtk (the server would go
on writing into a file that is no longer the database, or into a WAL that no longer belongs
to it). Each serve holds a shared flock on `serve.lock` in its data dir; a restore asks for
an exclusive one without waiting, and is refused while any serve holds its share. The
kernel frees the lock with the process, so a serve killed with SIGKILL leaves nothing held.
"""

import fcntl
import os
from pathlib import Path

LOCK_NAME = "serve.lock"


def hold_while_serving(data_dir: Path) -> int:
    """Mark `data_dir` as served until this process exits; answers the lock's descriptor
    (kept open: closing it would free the lock)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def is_served(data_dir: Path) -> bool:
    """Whether an `rbtk serve` holds `data_dir` now."""
    try:
        fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # frees the lock taken, if it was
    return False

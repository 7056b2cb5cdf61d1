"""Recovery from a full disk: how soon queued pages are delivered and recorded once space is
freed.

Puts rbtk's SQLite database on a small tmpfs of its own (needs root, for `mount`), queues
`-n` pages while PagerDuty (bench/sink.py) answers 500, fills the disk to the last byte,
lets PagerDuty recover while the disk stays full for `--full-s` seconds (answers arrive but
cannot be recorded), then frees the disk and waits until every row is recorded as sent.

Figure: seconds from freeing the disk until no row is pending.

    sudo .venv/bin/python bench/recovery_disk.py --full-s 120
"""

import argparse
import asyncio
import contextlib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import log, pool_offline, run_id, running_stack
from recovery import post_pages, set_mode

FILLER_CHUNK = 64 * 1024


@contextlib.contextmanager
def small_disk(size_mib: int) -> Iterator[Path]:
    mount = Path(tempfile.mkdtemp(prefix="rbtk-bench-disk-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", str(mount)], check=True
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def fill(path: Path) -> int:
    """Write until the disk refuses another byte; answer how many were written."""
    written = 0
    with path.open("wb", buffering=0) as filler:
        for size in (FILLER_CHUNK, 4096, 512, 1):
            chunk = b"\0" * size
            with contextlib.suppress(OSError):
                while True:
                    written += filler.write(chunk)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-s", type=float, default=120.0, help="how long the disk stays full")
    parser.add_argument("-n", type=int, default=100, help="pages queued (default 100)")
    parser.add_argument("--disk-mib", type=int, default=32)
    args = parser.parse_args()
    tag = run_id()
    since = datetime.now(UTC) - timedelta(minutes=20)
    events: list[dict[str, object]] = [
        pool_offline(f"{tag}-{i}", f"pool-{tag}-{i}", occurred_at=since, last_heartbeat_at=since)
        for i in range(args.n)
    ]
    with small_disk(args.disk_mib) as disk:
        env = {"RBTK_DATABASE_URL": f"sqlite:///{disk / 'rbtk.db'}"}
        with running_stack("sqlite", rate_per_min=0, sink="raw", env=env) as stack:
            set_mode(stack.emulator_url, "fail")
            asyncio.run(post_pages(stack, events))
            filler = disk / "filler"
            log(f"{args.n} pages queued; disk filled with {fill(filler) / 2**20:.1f} MiB")
            set_mode(stack.emulator_url, "ok")
            time.sleep(args.full_s)
            pending = stack.pending()
            filler.unlink()
            freed = time.time()
            log(f"disk freed after {args.full_s:.0f} s full; {pending} rows pending")
            stack.wait_delivered(args.n, timeout_s=900)
            drained = time.time() - freed
    print(
        f"recovery sqlite after a {args.full_s:.0f} s full disk, {args.n} pages: "
        f"{pending} rows pending when freed, none {drained:.1f} s later"
    )


if __name__ == "__main__":
    main()

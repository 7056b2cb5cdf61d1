"""`rbtk serve`'s delivery process: the delivery worker and scheduler in a process of their own.

The API (with the ingest writer) keeps the parent process; delivery and the scheduler run in
a child, so the two halves do not share one GIL. Three things cross between them:

- Wake-ups, one socket pair each (delivery, scheduler). The parent writes one byte without
  ever blocking: a full buffer means a wake-up is already pending, so the byte is dropped.
  The child reads its ends on its event loop and sets the worker's event, within
  milliseconds of the commit that asked for it.
- The parent's death. The child asks Linux to SIGKILL it when the parent dies
  (PR_SET_PDEATHSIG), checks it was not orphaned before asking, and exits at once if its
  wake sockets reach EOF (the parent's ends close only with the parent). A restarted serve
  releases every SQLite lease at start, so no orphan may be left delivering.
- Stopping. SIGTERM, or SIGINT (Ctrl-C reaches the whole process group), stops the child as
  the in-process workers stop: in-flight sends finish and their answers are recorded.
- Delivery counters for /metrics: the child writes them to a file in the data directory
  each second (and when it stops); the API process serves that file's text.

The parent (`Supervisor`) restarts a child that exits on its own: after 1 s, doubling while
it keeps failing, up to 30 s; a child that ran a minute starts over at 1 s.
"""

import argparse
import asyncio
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import uvloop

from rbtk import metrics
from rbtk.channels import registry
from rbtk.context import Context, open_context
from rbtk.delivery import loops
from rbtk.runtime import logs
from rbtk.runtime.settings import Settings

log = logging.getLogger(__name__)

MODULE = "rbtk.delivery.process"
WAKES = ("delivery", "scheduler")
RESTART_FIRST_S = 1.0
RESTART_MAX_S = 30.0
HEALTHY_AFTER_S = 60.0
_WATCH_EVERY_S = 0.2
_STOP_POLL_S = 0.05
METRICS_EVERY_S = 1.0
_PR_SET_PDEATHSIG = 1


# The parent: rbtk serve.


class Supervisor:
    """Starts the delivery process, wakes it, restarts it when it dies, stops it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # (parent's end, child's end). The parent keeps both: the child's end outlives each
        # child, so a restarted one reads the wake-ups sent while none ran; the parent's end
        # closes only when the parent is gone, which the child reads as EOF.
        self.wakes = {name: socket.socketpair() for name in WAKES}
        for ours, _theirs in self.wakes.values():
            ours.setblocking(False)
        self.process: subprocess.Popen[bytes] | None = None
        self.ready: int | None = None  # the pid of the child that said it delivers
        self.metrics = settings.data_dir / f"delivery-metrics.{os.getpid()}.prom"
        self.metrics.parent.mkdir(parents=True, exist_ok=True)

    def wake_delivery(self) -> None:
        _poke(self.wakes["delivery"][0])

    def wake_scheduler(self) -> None:
        _poke(self.wakes["scheduler"][0])

    def running(self) -> bool:
        """Started, and delivering: a child says so once its workers run (it takes a second
        or two to import and open the database), so /readyz is not ready before then."""
        process = self.process
        return process is not None and process.poll() is None and self.ready == process.pid

    def start(self) -> subprocess.Popen[bytes]:
        # Call on the event loop's thread, which lives as long as serve: Linux sends the
        # death signal when the *thread* that started the child ends, not the process.
        fds = {name: theirs.fileno() for name, (_ours, theirs) in self.wakes.items()}
        said, says = os.pipe()
        args = [sys.executable, "-m", MODULE, "--parent", str(os.getpid())]
        args += [f"--wake-{name}={fd}" for name, fd in fds.items()]
        args += ["--metrics", str(self.metrics), "--ready", str(says)]
        try:
            process = subprocess.Popen(args, pass_fds=(*fds.values(), says))
        except OSError:
            os.close(said)
            raise
        finally:
            os.close(says)
        self.process = process
        asyncio.get_running_loop().add_reader(said, self._heard, said, process.pid)
        log.info("delivery process %d started", process.pid)
        return process

    def _heard(self, said: int, pid: int) -> None:
        """The child wrote that it delivers, or closed its end (it said so, or it died)."""
        if os.read(said, 1):
            self.ready = pid
            return
        asyncio.get_running_loop().remove_reader(said)
        os.close(said)

    async def supervise(self, stopping: Callable[[], bool]) -> None:
        """Keep a delivery process running until `stopping()` says serve is stopping."""
        delay = RESTART_FIRST_S
        while not stopping():
            started = time.monotonic()
            try:
                process = self.start()
            except OSError as exc:
                what = f"could not start: {exc}"
            else:
                while process.poll() is None:
                    await asyncio.sleep(_WATCH_EVERY_S)
                what = f"{process.pid} {_exit_status(process.returncode)}"
            if stopping():  # Ctrl-C: the child stopped on its own SIGINT
                return
            if time.monotonic() - started >= HEALTHY_AFTER_S:
                delay = RESTART_FIRST_S
            log.error("delivery process %s; restarting it in %.0f s", what, delay)
            metrics.DELIVERY_RESTARTS.inc()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESTART_MAX_S)

    async def stop(self) -> None:
        """SIGTERM the child and wait while it finishes its in-flight sends; kill it if it
        takes longer than a send can."""
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + registry.drain_s(self.settings) + 5
            while process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(_STOP_POLL_S)
            if process.poll() is None:
                log.error("delivery process %d did not stop in time; killing it", process.pid)
                process.kill()
                process.wait()
        for pair in self.wakes.values():
            for end in pair:
                end.close()
        self.metrics.unlink(missing_ok=True)


@asynccontextmanager
async def supervised(context: Context, *, stopping: Callable[[], bool]) -> AsyncIterator[None]:
    """Run the delivery process while the block runs, and route the context's wake-ups to it.
    `stopping()` is true once serve is shutting down: a child that exits then is not
    restarted. On leaving, the child is stopped and waited for."""
    supervisor = Supervisor(context.settings)
    context.wake_delivery = supervisor.wake_delivery
    context.wake_scheduler = supervisor.wake_scheduler
    context.delivery_process = supervisor.running
    context.delivery_metrics = supervisor.metrics
    watcher = asyncio.create_task(supervisor.supervise(stopping), name="delivery-supervisor")
    try:
        yield
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await supervisor.stop()


def _poke(end: socket.socket) -> None:
    # A full buffer holds wake-ups the child has not read yet: one is pending already.
    with suppress(BlockingIOError):
        end.send(b"\0")


def _exit_status(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


# The child: python -m rbtk.delivery.process.


def main(argv: Sequence[str] | None = None) -> None:
    # Until the event loop takes over, SIGINT ends this process quietly, as SIGTERM does.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    parser = argparse.ArgumentParser(prog=MODULE, description="rbtk serve's delivery process")
    parser.add_argument("--parent", type=int, required=True, help="rbtk serve's process id")
    for name in WAKES:
        parser.add_argument(f"--wake-{name}", type=int, required=True, help="socket fd")
    parser.add_argument("--metrics", type=Path, required=True, help="delivery counters file")
    parser.add_argument("--ready", type=int, required=True, help="pipe fd: written once running")
    args = parser.parse_args(argv)
    _die_with(args.parent)
    wakes = {name: socket.socket(fileno=getattr(args, f"wake_{name}")) for name in WAKES}
    settings = Settings()
    logs.configure(settings)
    # serve migrated the database, or checked it is current, before starting this process.
    context = open_context(settings, migrating=False)
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(run_workers(context, wakes, args.metrics, ready=args.ready))
    finally:
        context.engine.dispose()


async def run_workers(
    context: Context, wakes: dict[str, socket.socket], counters: Path, *, ready: int
) -> None:
    """Deliver and schedule until SIGTERM or SIGINT, woken by bytes on `wakes`; say so on
    the `ready` pipe once running; write the delivery counters to `counters` each second."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with loops.running(context):
        # Read at each wake-up: `loops.running` set them to wake this loop's tasks.
        targets: dict[str, Callable[[], None]] = {
            "delivery": lambda: context.wake_delivery(),
            "scheduler": lambda: context.wake_scheduler(),
        }
        for name, end in wakes.items():
            end.setblocking(False)
            loop.add_reader(end.fileno(), _read_wake, end, targets[name])
        os.write(ready, b"1")
        os.close(ready)
        try:
            while not stop.is_set():
                await asyncio.to_thread(_write_counters, counters)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), METRICS_EVERY_S)
        finally:
            for end in wakes.values():
                loop.remove_reader(end.fileno())
    _write_counters(counters)  # the answers recorded while stopping
    log.info("delivery process %d stopped", os.getpid())


def _write_counters(path: Path) -> None:
    # A full or read-only disk costs /metrics its delivery counters, never a page.
    try:
        metrics.write_delivery(path)
    except OSError as exc:
        log.warning("cannot write the delivery counters to %s: %s", path, exc)


def _read_wake(end: socket.socket, wake: Callable[[], None]) -> None:
    try:
        while len(data := end.recv(4096)) == 4096:
            pass
    except BlockingIOError:
        pass
    else:
        if not data:
            # The parent's end closed: serve is gone. Exit now, sending nothing more: a
            # restarted serve takes over every row this process holds.
            log.error("rbtk serve is gone; the delivery process exits")
            os._exit(1)
    wake()


def _die_with(parent: int) -> None:
    """Have Linux SIGKILL this process when `parent` dies; exit if it is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        zero = ctypes.c_ulong(0)
        if libc.prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), zero, zero, zero):
            print(f"prctl(PR_SET_PDEATHSIG): errno {ctypes.get_errno()}", file=sys.stderr)
    # The parent may have died before the request was made: then no signal would ever come.
    if os.getppid() != parent:
        sys.exit("rbtk serve exited before its delivery process started")


if __name__ == "__main__":
    main()

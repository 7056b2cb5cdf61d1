"""Running the emulator: in a background thread for tests, or in the foreground for the CLI."""

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from rbtk.emulator.app import create_app
from rbtk.emulator.config import EmulatorConfig


class PromptServer(uvicorn.Server):
    """A uvicorn server in a thread that stops as soon as `stop` is called: uvicorn's own
    looks at `should_exit` every 0.1 s, and waits at least another 0.1 s in its shutdown, a
    fifth of a second for each of hundreds of tests that start one."""

    _stopping: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):  # once a second, as uvicorn's (Date header)
            counter += 10
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown without its fixed waits: it sleeps 0.1 s after asking the open
        connections to close, then polls every 0.1 s until they and their tasks are done; the
        same steps here poll every few milliseconds, within the same graceful-shutdown limit."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        state = self.server_state
        for connection in list(state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or 0)
        while (state.connections or state.tasks) and not self.force_exit:
            if self.config.timeout_graceful_shutdown is not None and loop.time() > deadline:
                for task in state.tasks:
                    task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
                break
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()

    def stop(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # its loop already closed
                self._loop.call_soon_threadsafe(self._stopping.set)


@contextmanager
def running_emulator(
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout_s: float = 10.0,
) -> Iterator[str]:
    """Serve a fresh emulator on `host`:`port` (0 picks a free port); yield its base URL."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Binding here, not in uvicorn, is how port 0 becomes a known port before start-up.
    sock = socket.create_server((host, port), family=family)
    server = PromptServer(
        uvicorn.Config(
            create_app(config),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="pd-emulator", daemon=True
    )
    thread.start()
    try:
        _wait_until_started(server, thread, startup_timeout_s)
        bound_port = sock.getsockname()[1]
        url_host = f"[{host}]" if family == socket.AF_INET6 else host
        yield f"http://{url_host}:{bound_port}"
    finally:
        server.stop()
        thread.join(timeout=startup_timeout_s)
        sock.close()


def serve(config: EmulatorConfig, *, host: str, port: int) -> None:
    """Serve in the foreground until interrupted."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="info")


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the PagerDuty emulator stopped during start-up; see its log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the PagerDuty emulator did not start within {timeout_s} s")
        time.sleep(0.005)

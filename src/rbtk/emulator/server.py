"""Running the emulator: in a background thread for tests, or in the foreground for the CLI."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from rbtk.emulator.app import create_app
from rbtk.emulator.config import EmulatorConfig


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
    server = uvicorn.Server(
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
        server.should_exit = True
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

"""Serving an ASGI app on a free loopback port in a background thread, for tests."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import uvicorn
from fastapi import FastAPI

from rbtk.emulator.server import PromptServer


@contextmanager
def serving(
    app: FastAPI, *, lifespan: Literal["auto", "on", "off"] = "on", timeout_s: float = 15.0
) -> Iterator[str]:
    sock = socket.create_server(("127.0.0.1", 0))
    server = PromptServer(
        uvicorn.Config(
            app, log_config=None, access_log=False, lifespan=lifespan, timeout_graceful_shutdown=5
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.stop()
        thread.join(timeout=timeout_s)
        sock.close()

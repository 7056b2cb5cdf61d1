"""The demo's two children, `rbtk pd-emulator` and `rbtk serve`, on loopback only.

Each runs in its own session, so a Ctrl-C reaches the demo alone and the demo stops them in
order (rbtk first, so its last sends reach the emulator); each also asks Linux to send it
SIGTERM if the demo dies without stopping it, so no child outlives a killed demo.
"""

import ctypes
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1


class StartFailed(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout_s: float) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout_s`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def port_free(port: int) -> bool:
    """Whether nothing listens on `port`. Bound as both children bind (uvicorn and
    `socket.create_server` alike), with SO_REUSEADDR: the connections a stopped demo leaves
    in TIME_WAIT for a minute do not keep them from starting, so must not keep the demo."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start(name: str, args: list[str], env: dict[str, str], log: Path, ready_url: str) -> Child:
    """Start `python -m rbtk ARGS` and return once `ready_url` answers below 500."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "rbtk", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_terminate_with_parent,
        )
    child = Child(name, process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartFailed(f"{name} exited with {process.returncode}:\n{child.tail()}")
        try:
            if httpx.get(ready_url, timeout=1.0).status_code < 500:
                return child
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    child.stop(5)
    raise StartFailed(f"{name} was not ready within 30 s:\n{child.tail()}")


def _terminate_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        zero = ctypes.c_ulong(0)
        libc.prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGTERM), zero, zero, zero)

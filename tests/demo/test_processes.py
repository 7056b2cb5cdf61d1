"""`rbtk demo`'s port check: a port is taken only while something listens on it."""

import socket
from pathlib import Path

from rbtk.demo.processes import HOST, port_free
from tests.waiting import wait_for

TIME_WAIT = "06"  # the state's number in /proc/net/tcp


def time_waits(port: int) -> list[str]:
    """The connections of `port` on HOST left in TIME_WAIT, as /proc/net/tcp lists them."""
    local = f"0100007F:{port:04X}"
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return [row[1] for row in rows if row[1] == local and row[3] == TIME_WAIT]


def test_a_port_left_with_only_time_wait_connections_is_free() -> None:
    # As a stopped demo's children leave it: uvicorn, bound with SO_REUSEADDR, closed its
    # connections first. (Linux lets a bind pass a TIME_WAIT only when both set that option.)
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        client = socket.create_connection((HOST, port))
        accepted, _ = listener.accept()
        accepted.close()
        client.close()
    wait_for(lambda: time_waits(port), what=f"a TIME_WAIT connection on port {port}")

    assert port_free(port)


def test_a_port_something_listens_on_is_not_free() -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        listener.bind((HOST, 0))
        listener.listen()

        assert not port_free(int(listener.getsockname()[1]))

"""`rbtk demo` refuses, before starting anything, a port another process already listens on."""

import socket
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from rbtk.cli.main import app


@pytest.fixture
def taken() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("option", ["--port", "--emulator-port"])
def test_a_port_in_use_is_refused_with_the_option_to_change(taken: int, option: str) -> None:
    other = "--emulator-port" if option == "--port" else "--port"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = int(sock.getsockname()[1])

    result = CliRunner().invoke(
        app, ["demo", option, str(taken), other, str(free)], prog_name="rbtk"
    )

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: port {taken} on 127.0.0.1 is in use (an rbtk serve already running?): "
        f"choose another with {option}\n"
    )

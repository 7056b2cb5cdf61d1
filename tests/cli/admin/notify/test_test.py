"""`rbtk admin notify test --channel NAME`: a test message to a Slack receiver on loopback."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.cli.conftest import Rbtk


@dataclass
class Receiver:
    """A Slack incoming webhook stand-in: records each POST, answers `status`."""

    url: str
    status: int = 200
    answer: bytes = b"ok"
    received: list[tuple[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.received.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(state.status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(state.answer)))
            self.end_headers()
            self.wfile.write(state.answer)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/services/T0001/B0002/s3cr3tHook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def add_slack(api: httpx.Client, url: str) -> None:
    answer = api.post(
        "/api/v1/notify/channels", json={"name": "ops-slack", "kind": "slack", "webhook_url": url}
    )
    assert answer.status_code == 201, answer.text


def test_it_sends_a_test_message_and_prints_what_slack_answered(
    rbtk: Rbtk, api: httpx.Client, receiver: Receiver
) -> None:
    add_slack(api, receiver.url)

    result = rbtk("admin", "notify", "test", "--channel", "ops-slack")

    [(path, body)] = receiver.received
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "channel: ops-slack\noutcome: sent (HTTP 200, ok)\n"
    assert path == "/services/T0001/B0002/s3cr3tHook"
    assert body["text"] == "Roboticks test message from rbtk for channel ops-slack (rbtk)"
    assert "s3cr3t" not in result.output
    assert "s3cr3t" not in api.get("/api/v1/pagerduty/deliveries").text
    assert "s3cr3t" not in api.get("/api/v1/notify/channels").text


def test_a_refusal_is_shown_and_exits_1(rbtk: Rbtk, api: httpx.Client, receiver: Receiver) -> None:
    add_slack(api, receiver.url)
    receiver.status, receiver.answer = 404, b"no_service"

    result = rbtk("admin", "notify", "test", "--channel", "ops-slack")

    assert (result.exit_code, result.stdout) == (
        1,
        "channel: ops-slack\noutcome: failed (HTTP 404, no_service)\n",
    )
    assert result.stderr == (
        "error: the test message to 'ops-slack' was not delivered: failed (404, no_service)\n"
    )


def test_a_failing_channel_is_followed_until_the_wait_and_exits_1(
    rbtk: Rbtk, api: httpx.Client, receiver: Receiver
) -> None:
    add_slack(api, receiver.url)
    receiver.status, receiver.answer = 503, b"busy"

    result = rbtk("admin", "notify", "test", "--channel", "ops-slack", "--wait", "0.3")

    [row] = api.get("/api/v1/notify/deliveries").json()["deliveries"]
    assert (result.exit_code, row["status"]) == (1, "retrying")
    assert result.stdout == "channel: ops-slack\noutcome: retrying (HTTP 503, Slack answered 503)\n"
    assert result.stderr.splitlines() == [
        "waiting: the test message to 'ops-slack' is being retried (503, Slack answered 503)",
        "error: no outcome within 0.3 s: the test message is still retrying "
        "(HTTP 503, Slack answered 503); rbtk keeps trying "
        f"(delivery {row['id']} in the delivery log)",
    ]


def test_an_unknown_channel_is_one_line_and_exit_1(rbtk: Rbtk) -> None:
    result = rbtk("admin", "notify", "test", "--channel", "nope")

    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "error: no notification channel named 'nope'\n",
    )

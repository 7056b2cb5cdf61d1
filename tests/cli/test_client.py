"""What every API command does with a server that misbehaves: one line, exit 1, no traceback."""

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from rbtk.cli import client
from tests.cli.conftest import Rbtk
from tests.live import serving


@pytest.fixture
def odd_server() -> Iterator[str]:
    """Answers with a bare 500, with HTML, with too little, or not in time."""
    app = FastAPI()

    @app.get("/api/v1/pagerduty/connectors")
    async def broken() -> PlainTextResponse:
        return PlainTextResponse("Internal Server Error", status_code=500)

    @app.get("/api/v1/pagerduty/deliveries")
    async def html() -> PlainTextResponse:
        return PlainTextResponse("<html>\n<h1>Welcome to nginx!</h1>", media_type="text/html")

    @app.get("/api/v1/pagerduty/connectors/pd-old")
    async def old() -> dict[str, object]:
        return {"name": "pd-old", "integration_key": "••••••••…a1b2", "region": "us"}

    @app.post("/api/v1/events")
    async def slow() -> None:
        await asyncio.sleep(2)

    with serving(app, lifespan="off") as url:
        yield url


def test_a_server_error_without_detail_says_to_look_at_its_logs(odd_server: str) -> None:
    result = Rbtk(odd_server, "rbtk_token")("admin", "pd", "connectors", "list")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: rbtk at {odd_server} failed: 500 Internal Server Error; see its logs\n"
    )


def test_an_answer_that_is_not_json_is_quoted_in_short(odd_server: str) -> None:
    result = Rbtk(odd_server, "rbtk_token")("admin", "pd", "log")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: rbtk at {odd_server} answered GET /api/v1/pagerduty/deliveries with something "
        "that is not JSON: '<html> <h1>Welcome to nginx!</h1>'\n"
    )


def test_an_answer_without_what_the_command_reads_is_named(odd_server: str) -> None:
    result = Rbtk(odd_server, "rbtk_token")("admin", "pd", "connectors", "show", "pd-old")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {odd_server} answered GET /api/v1/pagerduty/connectors/pd-old without "
        "endpoint, is_default, send_info, change_events, rules, storm, open_incidents, "
        "created_at, updated_at, rest_key, service_id, repage_resolved_by_hand, verified_at: "
        "is that rbtk, and as recent as this CLI?\n"
    )


def test_a_server_that_does_not_answer_in_time_is_one_line(
    odd_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "TIMEOUT_S", 0.2)

    result = Rbtk(odd_server, "rbtk_token")("events", "send", "-", input='{"id": "evt-1"}')

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: cannot reach rbtk at {odd_server}: no answer in 0.2 s\n"

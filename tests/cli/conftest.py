"""Running `rbtk` commands in-process against a real rbtk serving on loopback.

The CLI is a client of the HTTP API: storage is tested on both databases elsewhere, so these
tests run on SQLite only (tests/conftest.py decides which tests run on both).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from rbtk.cli.main import app

KEY = "e93facc04764012d7bfb002500d5a1b2"
OTHER_KEY = "0c8f1d6e2b9a47c3a5f0e1d2c3b4c9d8"
MASKED = "••••••••…a1b2"
UNREACHABLE = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Rbtk:
    """`rbtk ...` with RBTK_URL and RBTK_TOKEN set, as a user's shell would have them.

    RBTK_OUTPUT and COLUMNS are unset, so the text output is tested whatever the shell running
    pytest has (with no COLUMNS, output that is not a terminal's is not fitted to a width).
    """

    url: str
    token: str | None

    def __call__(
        self, *args: str, input: str | None = None, env: Mapping[str, str | None] | None = None
    ) -> Result:
        environment = {
            "RBTK_URL": self.url,
            "RBTK_TOKEN": self.token,
            "RBTK_OUTPUT": None,
            "COLUMNS": None,
            **(env or {}),
        }
        return CliRunner().invoke(app, list(args), input=input, env=environment, prog_name="rbtk")

    def with_token(self, token: str | None) -> "Rbtk":
        return Rbtk(self.url, token)

    def at(self, url: str) -> "Rbtk":
        return Rbtk(url, self.token)


@pytest.fixture
def rbtk(service: str, admin_token: str) -> Rbtk:
    return Rbtk(service, admin_token)


@pytest.fixture
def api(service: str, admin_token: str) -> Iterator[httpx.Client]:
    """The API itself, to set the scene and to check what the commands did."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=service, headers=headers, timeout=20) as client:
        yield client


@pytest.fixture
def pd(emulator: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator, timeout=5) as client:
        yield client


def add_connector(api: httpx.Client, name: str, key: str = KEY, **settings: Any) -> Any:
    response = api.post(
        "/api/v1/pagerduty/connectors", json={"name": name, "integration_key": key, **settings}
    )
    assert response.status_code == 201, response.text
    return response.json()


def shown(value: str | None) -> str:
    """An API time as the commands print it."""
    if value is None:
        return "-"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

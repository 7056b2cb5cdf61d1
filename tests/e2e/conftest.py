"""End-to-end fixtures: `rbtk serve` and `rbtk pd-emulator` as real processes on loopback."""

import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.e2e.processes import RBTK, free_port, running, token

pytestmark = pytest.mark.e2e


class Emulator:
    def __init__(self, url: str) -> None:
        self.url = url

    def events(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = httpx.get(f"{self.url}/_inspect/events").json()["events"]
        return result

    def changes(self) -> list[dict[str, Any]]:
        """Change events received (PagerDuty's recent changes): never alerts."""
        found: list[dict[str, Any]] = httpx.get(f"{self.url}/_inspect/changes").json()["changes"]
        return found

    def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        response = httpx.get(f"{self.url}/_inspect/alerts", params=params)
        result: list[dict[str, Any]] = response.json()["alerts"]
        return result

    def faults(self, **faults: Any) -> None:
        httpx.put(f"{self.url}/_control/faults", json=faults).raise_for_status()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    port = free_port()
    args = [RBTK, "pd-emulator", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--rate-limit-per-min", "0"]
    url = f"http://127.0.0.1:{port}"
    with running(args, f"{url}/_inspect/events", {}, tmp_path / "emulator.log"):
        yield Emulator(url)


@pytest.fixture
def env(database_url: str, tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    return {
        "RBTK_DATA_DIR": str(tmp_path / "data"),
        "RBTK_DATABASE_URL": database_url,
        "RBTK_SECRET_KEY": Fernet.generate_key().decode(),
        "RBTK_PAGERDUTY_URL": f"{emulator.url}/v2/enqueue",
        "RBTK_BASE_URL": "https://roboticks.test",
        "RBTK_RETRY_BASE_S": "0.2",
        "RBTK_RETRY_CAP_S": "1",
        "RBTK_PAGERDUTY_TIMEOUT_S": "3",
        "RBTK_DELIVERY_BATCH": "50",
        "RBTK_DELIVERY_CONCURRENCY": "50",
        "RBTK_LOG_FORMAT": "json",
        "RBTK_ALLOW_PRIVATE_WEBHOOKS": "1",
        "RBTK_PAGERDUTY_RATE_PER_MIN": "0",
    }


@dataclass
class Service:
    url: str
    process: subprocess.Popen[bytes]


Start = Callable[..., AbstractContextManager[Service]]


@pytest.fixture
def start(env: dict[str, str], tmp_path: Path) -> Start:
    """Start an `rbtk serve` (several may share one database)."""

    @contextmanager
    def starting(**extra: str) -> Iterator[Service]:
        port = free_port()
        args = [RBTK, "serve", "--host", "127.0.0.1", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
        with running(args, f"{url}/healthz", {**env, **extra}, tmp_path / "rbtk.log") as process:
            yield Service(url, process)

    return starting


@pytest.fixture
def admin(env: dict[str, str]) -> dict[str, str]:
    """The environment an operator's shell has: RBTK_TOKEN as `rbtk tokens create` prints it
    (written in-process: that command is tested in tests/cli/test_tokens.py)."""
    return {**env, "RBTK_TOKEN": token(env["RBTK_DATABASE_URL"], "admin", "ops")}

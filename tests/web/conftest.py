"""Browser fixtures: Debian's Chromium (driven by Playwright) against `rbtk serve` and
`rbtk pd-emulator` running as real processes on loopback.

One service and one browser per test module (they take seconds to start); a fresh browser
context, so a fresh cookie jar, per test. Every test leaves a screenshot of its last page in
test-artifacts/web/. With RBTK_UPDATE_SCREENSHOTS=1 the walk-through also writes the README's
screenshots to docs/screenshots/.
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from tests.e2e.conftest import Emulator
from tests.e2e.processes import RBTK, free_port, rbtk, running

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 860}


@dataclass
class Service:
    """A running `rbtk serve`, its emulator, and an admin token for it."""

    url: str
    env: dict[str, str]
    token: str
    emulator: Emulator

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def create_token(self, scope: str) -> str:
        created = rbtk("tokens", "create", "--scope", scope, "--name", "web", env=self.env)
        assert created.returncode == 0, created.stderr
        return created.stdout.strip()


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Service]:
    """`SERVICE_ENV` in a test module adds to (or overrides) its service's environment."""
    tmp = tmp_path_factory.mktemp("web")
    emulator_port, port = free_port(), free_port()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    emulator_args = [RBTK, "pd-emulator", "--host", "127.0.0.1", "--port", str(emulator_port)]
    emulator_args += ["--rate-limit-per-min", "0"]
    url = f"http://127.0.0.1:{port}"
    env = {
        "RBTK_DATA_DIR": str(tmp / "data"),
        "RBTK_DATABASE_URL": f"sqlite:///{tmp / 'rbtk.db'}",
        "RBTK_SECRET_KEY": Fernet.generate_key().decode(),
        "RBTK_PAGERDUTY_URL": f"{emulator_url}/v2/enqueue",
        "RBTK_PAGERDUTY_API_URL": emulator_url,  # its REST API, for reconcile
        "RBTK_BASE_URL": "https://roboticks.test",
        "RBTK_PUBLIC_URL": url,
        "RBTK_RETRY_BASE_S": "0.2",
        "RBTK_RETRY_CAP_S": "1",
        "RBTK_PAGERDUTY_TIMEOUT_S": "3",
        "RBTK_PAGERDUTY_RATE_PER_MIN": "0",
        "RBTK_LOG_FORMAT": "json",
        "RBTK_ALLOW_PRIVATE_WEBHOOKS": "1",
        **getattr(request.module, "SERVICE_ENV", {}),
    }
    created = rbtk("tokens", "create", "--scope", "admin", "--name", "web", env=env)
    assert created.returncode == 0, created.stderr
    serve_args = [RBTK, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with (
        running(emulator_args, f"{emulator_url}/_inspect/events", {}, tmp / "emulator.log"),
        running(serve_args, f"{url}/healthz", env, tmp / "rbtk.log"),
    ):
        yield Service(url, env, created.stdout.strip(), Emulator(emulator_url))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/bootstrap (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, service: Service, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context (no session yet); screenshotted when the test ends."""
    context = browser.new_context(base_url=service.url, viewport=DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
        context.close()


def sign_in(page: Page, token: str) -> None:
    page.goto("/settings/sign-in")
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture
def signed_in(page: Page, service: Service) -> Page:
    sign_in(page, service.token)
    return page


def readme_screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """The README's pictures, taken on the way through the documented steps when asked."""
    if os.environ.get("RBTK_UPDATE_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page)


def add_connector(service: Service, name: str, key: str, **fields: Any) -> None:
    """Set-up through the HTTP API, for tests about something else than the Add page."""
    with service.api() as api:
        response = api.post(
            "/api/v1/pagerduty/connectors", json={"name": name, "integration_key": key, **fields}
        )
    assert response.status_code == 201, response.text

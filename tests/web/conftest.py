"""Browser fixtures: Debian's Chromium (driven by Playwright) against `rbtk serve` and
`rbtk pd-emulator` running as real processes on loopback.

One service and one browser per test module (they take seconds to start); a fresh
browser context, so a fresh cookie jar, per test. A failing test leaves a screenshot of its
last page in test-artifacts/web/ (every test does with RBTK_SCREENSHOTS=all). With
RBTK_UPDATE_SCREENSHOTS=1 the walk-through also writes the README's screenshots to
docs/screenshots/.
"""

import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from tests.databases import Templates, copy_of
from tests.e2e.conftest import Emulator
from tests.e2e.processes import RBTK, free_port, started, token, wait_healthy

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
PHONE: ViewportSize = {"width": 390, "height": 844}


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

    def create_token(self, scope: str, name: str = "web") -> str:
        return token(self.env["RBTK_DATABASE_URL"], scope, name)


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, templates: Templates
) -> Iterator[Service]:
    """`SERVICE_ENV` in a test module adds to (or overrides) its service's environment."""
    tmp = tmp_path_factory.mktemp("web")
    with copy_of("sqlite", templates, tmp) as database_url:
        yield from _serving(tmp, database_url, getattr(request.module, "SERVICE_ENV", {}))


def _serving(tmp: Path, database_url: str, extra: dict[str, str]) -> Iterator[Service]:
    emulator_port, port = free_port(), free_port()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    emulator_args = [RBTK, "pd-emulator", "--host", "127.0.0.1", "--port", str(emulator_port)]
    emulator_args += ["--rate-limit-per-min", "0"]
    url = f"http://127.0.0.1:{port}"
    env = {
        "RBTK_DATA_DIR": str(tmp / "data"),
        "RBTK_DATABASE_URL": database_url,
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
        "RBTK_TEST_SEND_WAIT_S": "5",  # as tests/conftest.py's settings, and why
        **extra,
    }
    admin = token(database_url, "admin", "web")
    serve_args = [RBTK, "serve", "--host", "127.0.0.1", "--port", str(port)]
    # Both start at once; each is waited for once it is started.
    with (
        started(emulator_args, {}, tmp / "emulator.log") as emulator,
        started(serve_args, env, tmp / "rbtk.log") as serve,
    ):
        wait_healthy(f"{emulator_url}/_inspect/events", emulator)
        wait_healthy(f"{url}/healthz", serve)
        yield Service(url, env, admin, Emulator(emulator_url))


# Per module, not per session: Playwright's sync API keeps an event loop running in this
# thread while it is started, which the asyncio tests that follow on the worker cannot share.
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


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def page(browser: Browser, service: Service, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context (no session yet); screenshotted when its test fails,
    or always with RBTK_SCREENSHOTS=all (a full-page screenshot takes most of a second)."""
    context = browser.new_context(base_url=service.url, viewport=DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        yield page
    finally:
        if request.node.stash.get(FAILED, False) or os.environ.get("RBTK_SCREENSHOTS") == "all":
            _screenshot(page, request.node.name)
        context.close()


def _screenshot(page: Page, test: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test).strip("-")
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def sign_in(page: Page, token: str) -> None:
    page.goto("/settings/sign-in")
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture
def signed_in(page: Page, service: Service) -> Page:
    """A page whose context is signed in, by the request the sign-in form sends (its CSRF
    token read from the form) made through the context's own cookie jar: a session of its
    own per test, without the form's half second. The form itself, and what a session allows,
    are tested in test_access.py with `sign_in`."""
    form = page.request.get("/settings/sign-in")
    assert form.ok, form.status
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text())
    assert csrf is not None, "the sign-in form has no CSRF token"
    signed = page.request.post(
        "/settings/sign-in",
        form={"csrf_token": csrf[1], "token": service.token, "next": "/settings"},
        max_redirects=0,
    )
    assert signed.status == 303, signed.text()
    assert signed.headers["location"] == "/settings", signed.headers
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

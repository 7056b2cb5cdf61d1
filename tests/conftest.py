"""Fixtures shared by the whole suite: a database of each kind, settings, a context."""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from rbtk.access import tokens
from rbtk.app import create_app
from rbtk.context import Context, open_context
from rbtk.emulator import EmulatorConfig, running_emulator
from rbtk.runtime.settings import Settings
from tests.databases import Templates, copy_of
from tests.live import serving

TESTS = Path(__file__).parent

BOTH = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
# The faces: they test what a request or a command answers, and the store below them is
# tested on both databases in its own folders. Their tests run on SQLite unless marked
# `both_databases`, where the store's own limits show through the face (PostgreSQL refuses a
# NUL in text and has 32-bit INTEGER ids; SQLite has neither).
FACES = ("api", "cli", "web")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Which databases a test that takes `database_url` runs on, decided here only:
    SQLite and PostgreSQL, except the faces (above); a test may still name its own."""
    if "database_url" not in metafunc.fixturenames:
        return
    test = metafunc.definition
    if any("database_url" in _names(m.args[0]) for m in test.iter_markers("parametrize")):
        return
    on_both = _folder(test.path) not in FACES or test.get_closest_marker("both_databases")
    metafunc.parametrize("database_url", BOTH if on_both else ["sqlite"], indirect=True)


@pytest.hookimpl(wrapper=True)  # a wrapper: marked before xdist reads the groups
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Iterator[None]:
    """The tests that must not share the machine with each other (the browser's, which take
    a core of their own, and those marked `alone`, which watch real time) run in one xdist
    group: on one worker, one after another. The group keeps its place in collection order:
    collected first, it ran beside the heavy e2e tests and made both slower (12 min, not 9).
    A group per browser module (spread over both workers) made no difference (9 min 21 s
    against 9 min 23 s): their services then started beside the heavy tests, 7-9 s each."""
    for item in items:
        if _folder(item.path) == "web" or item.get_closest_marker("alone"):
            item.add_marker(pytest.mark.xdist_group("alone"))
    yield
    # xdist applies a group by renaming the test; a pytest that no longer lets it (9.2) would
    # spread the group over the workers without a word.
    if getattr(config.option, "loadgroup", False) and any(
        "@" not in item.nodeid for item in items if item.get_closest_marker("xdist_group")
    ):
        raise pytest.UsageError("pytest-xdist did not apply the xdist_group marks")


def _folder(path: Path) -> str:
    return path.relative_to(TESTS).parts[0]


def _names(argnames: str | Sequence[str]) -> list[str]:
    if isinstance(argnames, str):
        return [name.strip() for name in argnames.split(",")]
    return list(argnames)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    templates = Templates(tmp_path_factory.mktemp("templates"))
    try:
        yield templates
    finally:
        templates.close()


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path
) -> Iterator[str]:
    """A migrated database of the kind the test runs on, its own (a copy of a template)."""
    with copy_of(request.param, templates, tmp_path) as url:
        yield url


def kind_of(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key=Fernet.generate_key().decode(),
        base_url="https://roboticks.test",
        pagerduty_url="http://127.0.0.1:9/v2/enqueue",
        retry_base_s=0.05,
        retry_cap_s=0.2,
        allow_private_webhooks=True,  # the suite's Slack stand-ins listen on loopback
        # On a shared machine a send to a local peer can outlast production's quarter second:
        # a test send's request waits longer here, so "sent" is answered as sent; the tests of
        # the 202 answer set production's wait again (PRODUCTION_TEST_SEND_WAIT_S).
        test_send_wait_s=5.0,
    )


@pytest.fixture
def context(settings: Settings) -> Iterator[Context]:
    context = open_context(settings)
    try:
        yield context
    finally:
        context.engine.dispose()


@pytest.fixture
def admin_token(context: Context) -> str:
    with context.engine.begin() as connection:
        _, token = tokens.create(connection, scope=tokens.Scope.ADMIN, name="test", now=now())
    return token


@pytest.fixture
def events_token(context: Context) -> str:
    with context.engine.begin() as connection:
        _, token = tokens.create(connection, scope=tokens.Scope.EVENTS, name="ci", now=now())
    return token


@pytest.fixture
def emulator() -> Iterator[str]:
    """A PagerDuty emulator on loopback with its rate limit off; yields its base URL."""
    with running_emulator(EmulatorConfig(rate_limit=0)) as url:
        yield url


@pytest.fixture
def service(context: Context, emulator: str) -> Iterator[str]:
    """rbtk (API, workers, scheduler) serving on loopback, delivering to the emulator."""
    context.settings = context.settings.model_copy(
        update={"pagerduty_url": f"{emulator}/v2/enqueue", "pagerduty_api_url": emulator}
    )
    with serving(create_app(context)) as url:
        yield url


PRODUCTION_TEST_SEND_WAIT_S = Settings.model_fields["test_send_wait_s"].default


def production_test_send_wait(context: Context) -> None:
    """A test send's request waits as long as in production before it answers 202."""
    context.settings = context.settings.model_copy(
        update={"test_send_wait_s": PRODUCTION_TEST_SEND_WAIT_S}
    )


def now() -> datetime:
    return datetime.now(UTC)

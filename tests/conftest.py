"""Fixtures shared by the whole suite: a database of each kind, settings, a context."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from rbtk.access import tokens
from rbtk.app import create_app
from rbtk.emulator import EmulatorConfig, running_emulator
from rbtk.runtime.context import Context, open_context
from rbtk.runtime.settings import Settings
from tests.live import serving

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


BOTH = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BOTH)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every storage test runs on SQLite and on the real PostgreSQL server, each isolated."""
    with isolated_database(request.param, tmp_path) as url:
        yield url


@contextmanager
def isolated_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file, or a schema of its own on the PostgreSQL server."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'rbtk.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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


def now() -> datetime:
    return datetime.now(UTC)

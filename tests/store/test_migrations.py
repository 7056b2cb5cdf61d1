"""The migrations build exactly the schema the code declares, on both databases, and move
the rows they reshape."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, Table, select

from rbtk.context import Context
from rbtk.store.db import MIGRATIONS, is_current, make_engine, migrate
from rbtk.store.tables import metadata
from tests.conftest import kind_of
from tests.databases import Templates, empty


def test_the_migrated_schema_matches_the_tables_the_code_uses(context: Context) -> None:
    with context.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)

    assert differences == []


def test_migrating_again_is_harmless_and_leaves_the_schema_current(context: Context) -> None:
    migrate(context.engine)

    assert is_current(context.engine)


def _to(engine: Engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def _row(number: int, channel: str, name: str) -> dict[str, object]:
    at = datetime(2026, 5, 25, 3, number, tzinfo=UTC)
    return {
        "channel": channel,
        "connector_name": name,
        "destination": b"token",
        "key_fingerprint": "f" * 32,
        "endpoint": channel,
        "dedup_key": f"k{number}",
        "action": "notify",
        "severity": "info",
        "priority": 2,
        "body": {},
        "status": "sent",
        "attempts": 1,
        "created_at": at,
        "next_attempt_at": at,
    }


@pytest.fixture
def empty_database_url(database_url: str, templates: Templates, tmp_path: Path) -> Iterator[str]:
    """A database of the test's kind with no revision applied yet."""
    (tmp_path / "empty").mkdir()
    with empty(kind_of(database_url), templates, tmp_path / "empty") as url:
        yield url


def test_a_new_database_migrates_from_nothing_to_the_schema_the_code_uses(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    try:
        migrate(engine)

        assert is_current(engine)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    finally:
        engine.dispose()


def test_0005_moves_chat_rows_names_to_channel_name_and_back(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        _to(engine, "0004")
        old = Table("outbox", MetaData(), autoload_with=engine)
        with engine.begin() as connection:
            connection.execute(
                old.insert(),
                [_row(1, "pagerduty", "ops"), _row(2, "slack", "ops"), _row(3, "email", "mail")],
            )

        _to(engine, "0005")
        new = Table("outbox", MetaData(), autoload_with=engine)
        query = select(new.c.channel, new.c.connector_name, new.c.channel_name).order_by(new.c.id)
        with engine.connect() as connection:
            assert [tuple(r) for r in connection.execute(query)] == [
                ("pagerduty", "ops", None),
                ("slack", None, "ops"),
                ("email", None, "mail"),
            ]

        _to(engine, "0004", down=True)
        back = Table("outbox", MetaData(), autoload_with=engine)
        query = select(back.c.channel, back.c.connector_name).order_by(back.c.id)
        with engine.connect() as connection:
            assert [tuple(r) for r in connection.execute(query)] == [
                ("pagerduty", "ops"),
                ("slack", "ops"),
                ("email", "mail"),
            ]
    finally:
        engine.dispose()

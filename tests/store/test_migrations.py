"""The migrations build exactly the schema the code declares, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rbtk.runtime.context import Context
from rbtk.store.db import is_current, migrate
from rbtk.store.tables import metadata


def test_the_migrated_schema_matches_the_tables_the_code_uses(context: Context) -> None:
    with context.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)

    assert differences == []


def test_migrating_again_is_harmless_and_leaves_the_schema_current(context: Context) -> None:
    migrate(context.engine)

    assert is_current(context.engine)

"""Alembic environment: always run through rbtk.store.db.migrate with a live connection."""

from alembic import context

from rbtk.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

"""`rbtk migrate`: the database to this rbtk's schema, then exit.

The deploy step when several instances share a database: run it once per upgrade, then start
(or restart) the instances with `rbtk serve --no-migrate`, so no replica changes the schema
under the others. Several at once are safe: on PostgreSQL they take turns on an advisory
lock, on SQLite on its one write lock, and whoever comes second finds nothing to do.
"""

import typer

from rbtk.cli.common import fail, load_settings


def migrate() -> None:
    """Bring the database to this rbtk's schema and exit (once per upgrade)."""
    # Imported here: `rbtk` starts without SQLAlchemy and Alembic for the API's commands.
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from rbtk.runtime import logs
    from rbtk.store import db

    settings = load_settings()
    logs.configure(settings)  # Alembic says each migration it runs
    where = db.shown(settings.database)
    engine = db.make_engine(settings.database)
    try:
        found = db.revision(engine)
        if found is not None and not db.knows(found):
            raise fail(f"cannot migrate {where}: {db.schema_problem(engine)}")
        before = db.migrate(engine)
    except (SQLAlchemyError, CommandError) as exc:
        raise fail(f"cannot migrate {where}: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    if before == db.head():
        typer.echo(f"{where}: already at this rbtk's schema ({before})")
    else:
        typer.echo(f"{where}: migrated from {before or 'nothing'} to {db.head()}")

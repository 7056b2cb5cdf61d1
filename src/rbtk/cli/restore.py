"""`rbtk restore FILE`: a backup taken by `rbtk backup` becomes the data dir's database.

Refused while an `rbtk serve` uses the data dir (runtime/data_dir.py), refused over a
database already there unless --replace, and refused when the secret key this data dir would
start with cannot decrypt the backup's secrets; nothing is changed by a refusal.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rbtk.cli.common import fail, load_settings

if TYPE_CHECKING:
    from rbtk.runtime.settings import Settings


def restore(
    file: Annotated[Path, typer.Argument(help="A copy made by `rbtk backup`.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the database the data dir holds.")
    ] = False,
) -> None:
    """Put a backup into a stopped data dir (RBTK_DATA_DIR)."""
    from sqlalchemy.engine import make_url

    from rbtk.runtime.data_dir import Served, kept_from_serving
    from rbtk.store import backup as copies
    from rbtk.store.db import head, knows

    settings = load_settings()
    url = make_url(settings.database)
    if url.get_backend_name() != "sqlite":
        raise fail(
            "the database is PostgreSQL: restore a pg_dump backup with `pg_restore --clean "
            "--if-exists --dbname=URL FILE`, then `rbtk migrate` (docs/deploy.md)"
        )
    database = Path(str(url.database))
    if not file.is_file():
        raise fail(f"no backup at {file}")
    try:
        revision = copies.check(file)
    except copies.NotADatabase as exc:
        raise fail(str(exc)) from None
    if not knows(revision):
        raise fail(f"{file} was taken by a newer rbtk (schema {revision}); restore it with that")
    try:
        with kept_from_serving(settings.data_dir):
            if database.exists() and not replace:
                raise fail(f"{database} already holds a database; add --replace to replace it")
            if problem := _key_problem(file, settings):
                raise fail(problem)
            copies.put_back(file, database)
    except Served as exc:
        raise fail(f"{exc}; stop it first") from None
    except OSError as exc:
        raise fail(f"cannot write {database}: {exc.strerror or exc}") from None
    typer.echo(f"restored {file} into {database} (schema {revision})")
    if revision != head():
        typer.echo(f"run `rbtk migrate` (or `rbtk serve`) to bring it to this rbtk's {head()}")
    if settings.secret_key is None and not (settings.data_dir / "secret.key").exists():
        typer.echo(
            f"put the secret.key the backup was taken with into {settings.data_dir} (or set "
            "RBTK_SECRET_KEY) before starting rbtk: its secrets are encrypted with it"
        )


def _key_problem(file: Path, settings: "Settings") -> str | None:
    """Why the key this data dir would start with cannot decrypt the backup's secrets; None
    when it can, or when there is no key yet (the operator is told to bring one)."""
    import sqlite3

    from sqlalchemy import create_engine

    from rbtk import secret_keys
    from rbtk.runtime.secrets import BadSecretKey, Vault, load_or_create_keys

    kept = settings.data_dir / "secret.key"
    if settings.secret_key is None and not kept.exists():
        return None  # never made here: load_or_create_keys would write a new one
    try:
        vault = Vault(*load_or_create_keys(settings.secret_key, settings.data_dir))
    except BadSecretKey as exc:
        return str(exc)
    uri = f"{file.resolve().as_uri()}?mode=ro"
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    try:
        with engine.connect() as connection:
            mismatch = secret_keys.problem(connection, vault)
    finally:
        engine.dispose()
    if mismatch is None:
        return None
    key = "RBTK_SECRET_KEY" if settings.secret_key else str(kept)
    return f"{key} cannot decrypt the backup's secrets: bring the key the backup was taken with"

"""`rbtk backup FILE`: a consistent copy of the SQLite database, taken while rbtk serves.

The copy holds the integration keys and webhook URLs encrypted: it is of no use without the
secret key they were encrypted with, which it does not contain (a backup that leaks leaks no
key). The command says where that key is, so it is kept with the backup, apart from it.
On PostgreSQL it copies nothing and prints the pg_dump command to use instead.
"""

import time
from pathlib import Path
from typing import Annotated

import typer

from rbtk.cli.common import fail, load_settings, require_database


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the copy (must not exist).")],
) -> None:
    """Copy the database consistently while rbtk serves, and say where its secret key is."""
    from sqlalchemy.engine import make_url

    from rbtk.store import backup as copies
    from rbtk.store.db import shown

    settings = load_settings()
    url = make_url(settings.database)
    if url.get_backend_name() != "sqlite":
        raise fail(
            "the database is PostgreSQL, which rbtk does not copy: back it up with "
            f"`{copies.pg_dump_command(settings.database, str(file))}` (docs/deploy.md)"
        )
    require_database(settings)
    if file.exists():
        raise fail(f"{file} already exists; name a new file")
    if not file.parent.is_dir():
        raise fail(f"{file.parent} is not a directory")
    started = time.monotonic()
    try:
        copied = copies.copy(Path(str(url.database)), file)
    except OSError as exc:
        raise fail(f"cannot write {file}: {exc.strerror or exc}") from None
    took = time.monotonic() - started
    typer.echo(
        f"backed up {shown(settings.database)} to {file}: {copied.bytes / 2**20:.1f} MiB, "
        f"schema {copied.revision}, in {took:.2f} s"
    )
    typer.echo(_where_the_key_is(settings.secret_key is not None, settings.data_dir))


def _where_the_key_is(configured: bool, data_dir: Path) -> str:
    if configured:
        where = "RBTK_SECRET_KEY (as set for this command)"
    else:
        where = f"{data_dir / 'secret.key'}"
    return (
        f"its integration keys and webhook URLs are encrypted with {where}: keep that key "
        "with the backup, stored apart from it; rbtk cannot send with the copy without it"
    )

"""What `rbtk secrets` commands share: the database and the configured keys, unchecked (these
commands are how a mismatch is mended)."""

from sqlalchemy import Engine

from rbtk.cli.common import fail, require_database
from rbtk.runtime.secrets import Vault, load_or_create_keys
from rbtk.runtime.settings import Settings
from rbtk.store.db import make_engine, migrate


def open_store(settings: Settings) -> tuple[Engine, Vault]:
    require_database(settings)
    try:
        keys = load_or_create_keys(settings.secret_key, settings.data_dir)
    except ValueError as exc:
        raise fail(str(exc)) from None
    engine = make_engine(settings.database)
    migrate(engine)
    return engine, Vault(*keys)

"""What every part of a running rbtk shares: settings, the database, the vault, wake-ups."""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from rbtk.secrets import Vault, load_or_create_key
from rbtk.settings import Settings
from rbtk.store.db import make_engine, migrate


def _nothing() -> None:
    return None


@dataclass
class Context:
    settings: Settings
    engine: Engine
    vault: Vault
    # Set by the running service so a write can wake the workers instead of them polling.
    wake_delivery: Callable[[], None] = field(default=_nothing)
    wake_scheduler: Callable[[], None] = field(default=_nothing)


def open_context(settings: Settings) -> Context:
    engine = make_engine(settings.database)
    migrate(engine)
    vault = Vault(load_or_create_key(settings.secret_key, settings.data_dir))
    return Context(settings=settings, engine=engine, vault=vault)

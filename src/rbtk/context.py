"""What every part of a running rbtk shares: settings, the database, the vault, wake-ups."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from rbtk.access.tokens import Callers
from rbtk.routing.snapshot import Snapshots
from rbtk.runtime.secrets import Vault, load_or_create_keys
from rbtk.runtime.settings import Settings
from rbtk.secret_keys import verify_at_start
from rbtk.store.db import make_engine, migrate, reads_only, schema_problem

log = logging.getLogger(__name__)


def _nothing() -> None:
    return None


@dataclass
class Context:
    settings: Settings
    engine: Engine
    vault: Vault
    callers: Callers = field(default_factory=Callers)  # live API tokens, read once a second
    snapshots: Snapshots = field(default_factory=Snapshots)  # what fan-out reads, in memory
    # Set by the running service so a write can wake the workers instead of them polling.
    wake_delivery: Callable[[], None] = field(default=_nothing)
    wake_scheduler: Callable[[], None] = field(default=_nothing)
    # Under `rbtk serve`, whether its delivery process is running; None when this process
    # runs the delivery worker itself.
    delivery_process: Callable[[], bool] | None = None
    delivery_metrics: Path | None = None  # where that process writes its delivery counters
    # The earliest due time the scheduler was woken for and has not reached yet.
    _promised: datetime | None = None

    def due_at(self, at: datetime, now: datetime) -> None:
        """A due time `at` was written: wake the scheduler, unless it was woken for an
        earlier time still to come. It passes then anyway and reads every due time, this
        one too: a burst of pools going offline wakes it once, not once per commit."""
        promised = self._promised
        if promised is not None and now < promised <= at:
            return
        self._promised = at
        self.wake_scheduler()

    @property
    def reads(self) -> Engine:
        """The database for transactions that only read (never the write lock on SQLite)."""
        return reads_only(self.engine)


class SchemaNotCurrent(Exception):
    """The database is not at this rbtk's schema and this start may not migrate it."""


def open_context(settings: Settings, *, migrating: bool = True) -> Context:
    """Migrate the database (or, not `migrating`, refuse one that is not at this rbtk's
    schema: SchemaNotCurrent) and check the secret key against it: SecretKeyMismatch when
    the key cannot decrypt the stored secrets. Refusing to start is deliberate: a paging
    service that reports ready and accepts events it can never deliver is the worst way to
    fail."""
    engine = make_engine(settings.database)
    try:
        if migrating:
            migrate(engine)
        elif problem := schema_problem(engine):
            raise SchemaNotCurrent(problem)
    except Exception:
        engine.dispose()
        raise
    vault = Vault(*load_or_create_keys(settings.secret_key, settings.data_dir))
    try:
        if verify_at_start(engine, vault):
            log.warning(
                "stored secrets are still encrypted with an older RBTK_SECRET_KEY key: "
                "run 'rbtk secrets rotate' to re-encrypt them with the first one"
            )
    except Exception:
        engine.dispose()
        raise
    return Context(settings=settings, engine=engine, vault=vault)

"""Suppression windows as fan-out reads them: while one covers a connector, its triggers are
held back; the scheduler releases them when a window ends (`load_open`, `covering`,
`load_ended`, `next_end`). Windows are created, listed and ended by `rbtk.admin.suppressions`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from rbtk.store.tables import suppressions


@dataclass(frozen=True)
class Window:
    id: int
    connector_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str

    @property
    def holds(self) -> str:
        """What a trigger it holds back is told: "suppression #3 until 03:00 UTC (…)"."""
        until = self.ends_at.strftime("%Y-%m-%d %H:%M UTC")
        return f"suppression #{self.id} until {until} ({self.reason}); sent then if still firing"

    def covers(self, connector_id: int, at: datetime) -> bool:
        return self.connector_id == connector_id and self.starts_at <= at < self.ends_at


def load_open(connection: Connection, now: datetime) -> list[Window]:
    """Windows active now or later: the only ones that can hold a trigger back."""
    rows = connection.execute(
        select(suppressions).where(suppressions.c.ends_at > now).order_by(suppressions.c.id)
    )
    return [_window(r) for r in rows]


def load_unreleased(connection: Connection) -> list[Window]:
    """Every window whose end has not been dealt with: those open now or later among them."""
    rows = connection.execute(
        select(suppressions).where(suppressions.c.released_at.is_(None)).order_by(suppressions.c.id)
    )
    return [_window(r) for r in rows]


def covering(windows: Sequence[Window], connector_id: int, at: datetime) -> Window | None:
    """The window holding this connector back at `at`; overlapping windows act as one."""
    active = [w for w in windows if w.covers(connector_id, at)]
    return max(active, key=lambda w: w.ends_at, default=None)


def load_ended(connection: Connection, now: datetime, limit: int) -> list[Window]:
    """Windows that have ended and whose held-back triggers were not released yet."""
    rows = connection.execute(
        select(suppressions)
        .where(suppressions.c.released_at.is_(None), suppressions.c.ends_at <= now)
        .order_by(suppressions.c.ends_at)
        .limit(limit)
    )
    return [_window(r) for r in rows]


def next_end(connection: Connection) -> datetime | None:
    return connection.execute(
        select(suppressions.c.ends_at)
        .where(suppressions.c.released_at.is_(None))
        .order_by(suppressions.c.ends_at)
        .limit(1)
    ).scalar()


def _window(row: Any) -> Window:
    return Window(row.id, row.connector_id, row.starts_at, row.ends_at, row.reason)

"""Suppression windows: the one write path (create, list, show, end).

While a window covers a connector its triggers are held back (`rbtk.routing.suppression`, as
fan-out reads them); the scheduler releases them when the window ends, so each write should
wake it. Errors (under `rbtk.runtime.errors`), each message saying what to do (an unknown
connector is `rbtk.admin.connectors.UnknownConnector`):

    Invalid  ── InvalidWindow — naive or past times, no reason, no connector
    NotFound ── UnknownWindow — no window with that id
    Conflict ── WindowEnded — ending a window that is already over
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from rbtk.admin import audit
from rbtk.admin.connectors import UnknownConnector
from rbtk.runtime.errors import Conflict, Invalid, NotFound
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.tables import connectors, suppressions

MAX_REASON = 1000
MAX_CREATED_BY = 128


class InvalidWindow(Invalid):
    pass


class UnknownWindow(NotFound):
    def __init__(self, window_id: int) -> None:
        super().__init__(f"no suppression window #{window_id}")
        self.window_id = window_id


class WindowEnded(Conflict):
    pass


@dataclass(frozen=True)
class WindowView:
    """A window as it is shown: who opened it, when and why, and whether it is over."""

    id: int
    connector: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime
    ended_early_at: datetime | None
    ended_by: str | None  # who ended it early: a token's name
    released_at: datetime | None

    def state(self, now: datetime) -> str:
        """scheduled, active, or ended."""
        if self.ends_at <= now:
            return "ended"
        return "active" if self.starts_at <= now else "scheduled"


def create(
    connection: Connection,
    *,
    connector: str | None,
    all_connectors: bool,
    starts_at: datetime | None,
    ends_at: datetime,
    reason: str,
    by: str,
    now: datetime,
) -> list[WindowView]:
    """Open a window on one connector, or one window per connector; `starts_at` None is now.
    `by` (a token's name) is kept with each window as who opened it, and audited."""
    if all_connectors == (connector is not None):
        raise InvalidWindow(
            "give a connector or all connectors, not both"
            if all_connectors
            else "give the connector to suppress, or all connectors",
            field="connector",
        )
    start = now if starts_at is None else starts_at
    for label, moment in (("starts_at", start), ("ends_at", ends_at)):
        if moment.tzinfo is None:
            raise InvalidWindow(
                f"{label}: has no timezone; add Z or an offset such as +02:00", field=label
            )
    if ends_at <= now:
        raise InvalidWindow(
            f"ends_at: {format_rfc3339(ends_at)} is in the past (it is now "
            f"{format_rfc3339(now)}); give a time to come",
            field="ends_at",
        )
    if ends_at <= start:
        raise InvalidWindow(
            f"ends_at: {format_rfc3339(ends_at)} is not after the start, "
            f"{format_rfc3339(start)}; a window must end after it starts",
            field="ends_at",
        )
    reason = reason.strip()
    if not reason:
        raise InvalidWindow(
            "reason: must not be empty; say why, e.g. 'Maintenance'", field="reason"
        )
    if len(reason) > MAX_REASON:
        raise InvalidWindow(
            f"reason: must be at most {MAX_REASON} characters, got {len(reason)}", field="reason"
        )
    query = select(connectors.c.id, connectors.c.name).order_by(connectors.c.name)
    if connector is not None:
        query = query.where(connectors.c.name == connector)
    targets = list(connection.execute(query))
    if connector is not None and not targets:
        raise UnknownConnector(connector)
    if not targets:
        raise InvalidWindow("there are no connectors to suppress; add one first", field="connector")
    ids = [
        connection.execute(
            insert(suppressions)
            .values(
                connector_id=target.id,
                connector_name=target.name,
                starts_at=start,
                ends_at=ends_at,
                reason=reason,
                created_by=by[:MAX_CREATED_BY],
                created_at=now,
            )
            .returning(suppressions.c.id)
        ).scalar_one()
        for target in targets
    ]
    views = [get(connection, window_id) for window_id in ids]
    for view in views:
        audit.record(
            connection,
            by=by,
            action="suppression.create",
            target=target_of(view.id),
            before=None,
            after=audited(view),
            at=now,
        )
    return views


def list_windows(
    connection: Connection,
    *,
    connector: str | None = None,
    include_ended: bool = False,
    now: datetime,
) -> list[WindowView]:
    """Windows active or to come (and ended ones too when asked), soonest end first."""
    query = select(suppressions).order_by(suppressions.c.ends_at, suppressions.c.id)
    if connector is not None:
        found = connection.execute(select(connectors.c.id).where(connectors.c.name == connector))
        if found.first() is None:
            raise UnknownConnector(connector)
        query = query.where(suppressions.c.connector_name == connector)
    if not include_ended:
        query = query.where(suppressions.c.ends_at > now)
    return [_view(row) for row in connection.execute(query)]


def get(connection: Connection, window_id: int) -> WindowView:
    row = connection.execute(select(suppressions).where(suppressions.c.id == window_id)).first()
    if row is None:
        raise UnknownWindow(window_id)
    return _view(row)


def end(connection: Connection, window_id: int, *, by: str, now: datetime) -> WindowView:
    """End a window now, recording who (`by`); the scheduler then sends what it held back
    (wake it)."""
    before = get(connection, window_id)
    result = connection.execute(
        update(suppressions)
        .where(suppressions.c.id == window_id, suppressions.c.ends_at > now)
        .values(ended_early_at=now, ends_at=now, ended_by=by[:MAX_CREATED_BY])
    )
    if result.rowcount == 0:
        window = get(connection, window_id)
        raise WindowEnded(
            f"suppression window #{window_id} already ended at {format_rfc3339(window.ends_at)}"
        )
    after = get(connection, window_id)
    audit.record(
        connection,
        by=by,
        action="suppression.end",
        target=target_of(window_id),
        before=audited(before),
        after=audited(after),
        at=now,
    )
    return after


def target_of(window_id: int) -> str:
    """How the audit log names a window."""
    return f"window #{window_id}"


def audited(view: WindowView) -> dict[str, Any]:
    """What the audit log keeps of a window."""
    return {
        "connector": view.connector,
        "starts_at": format_rfc3339(view.starts_at),
        "ends_at": format_rfc3339(view.ends_at),
        "reason": view.reason,
        "ended_early_at": None
        if view.ended_early_at is None
        else format_rfc3339(view.ended_early_at),
        "ended_by": view.ended_by,
    }


def _view(row: Any) -> WindowView:
    return WindowView(
        id=row.id,
        connector=row.connector_name,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        ended_early_at=row.ended_early_at,
        ended_by=row.ended_by,
        released_at=row.released_at,
    )

"""The audit log: every configuration change, who made it, and what it was before and after.

Each write of the admin services calls `record` inside its own transaction, so a change that
fails or rolls back leaves no entry, and a change that is committed always has one. The
actor is the name of the token that asked (the API, the settings pages) or says the change
was made on the machine itself ("cli (local: alice)"). What is recorded is what the surfaces
show: secrets only masked (`••••••••…a1b2`), never in the clear. A write that changes
nothing records nothing. Entries are kept: retention never prunes them.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from rbtk.store.tables import audit_log

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_ACTOR = 128
MAX_TARGET = 255

State = Mapping[str, Any] | None  # what was recorded: JSON values only


@dataclass(frozen=True)
class Change:
    """One field that differs between before and after (None where it is absent)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    action: str  # "connector.update": what was changed, then how
    target: str  # the connector's name, "window #3"...
    before: dict[str, Any] | None  # None: it did not exist before
    after: dict[str, Any] | None  # None: it no longer exists

    @property
    def changes(self) -> list[Change]:
        return changes(self.before, self.after)


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next_before_id: int | None  # the `before_id` of the next, older page; None at the end


def record(
    connection: Connection,
    *,
    by: str,
    action: str,
    target: str,
    before: State,
    after: State,
    at: datetime,
) -> bool:
    """Write an entry, in the caller's transaction, unless nothing changed; say if one was."""
    if before == after:
        return False
    connection.execute(
        insert(audit_log).values(
            at=at,
            actor=by[:MAX_ACTOR],
            action=action,
            target=target[:MAX_TARGET],
            before=None if before is None else dict(before),
            after=None if after is None else dict(after),
        )
    )
    return True


def list_entries(
    connection: Connection,
    *,
    before_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    action: str | None = None,
    target: str | None = None,
) -> Page:
    """Newest first, older than `before_id`. `action` is one (`connector.update`) or a family
    (`connector`: every change of connectors); `target` is exact."""
    limit = max(1, min(limit, MAX_LIMIT))
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit + 1)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    if action:
        query = query.where(
            or_(
                audit_log.c.action == action,
                audit_log.c.action.startswith(f"{action}.", autoescape=True),
            )
        )
    if target:
        query = query.where(audit_log.c.target == target)
    rows = list(connection.execute(query))
    entries = [_entry(row) for row in rows[:limit]]
    return Page(entries, entries[-1].id if len(rows) > limit else None)


def changes(before: State, after: State) -> list[Change]:
    """The fields whose values differ, in the order the state lists them."""
    old = dict(before or {})
    new = dict(after or {})
    fields = [*new, *(field for field in old if field not in new)]
    return [
        Change(field, old.get(field), new.get(field))
        for field in fields
        if old.get(field) != new.get(field)
    ]


def _entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        before=row.before,
        after=row.after,
    )

"""What each reconcile pass found and did (`reconcile_runs`): its summary, and the newest
passes as the connector page, the API and /metrics show them."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.tables import reconcile_runs


@dataclass(frozen=True)
class Unknown:
    id: str
    number: int | None
    dedup_key: str
    title: str
    url: str | None
    resolve_queued: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "dedup_key": self.dedup_key,
            "title": self.title,
            "url": self.url,
            "resolve_queued": self.resolve_queued,
        }


@dataclass(frozen=True)
class Summary:
    """One pass: what it found and what it did; `error` when it could not read PagerDuty."""

    id: int
    connector: str
    started_at: datetime
    finished_at: datetime
    dry_run: bool
    checked: int = 0  # open rbtk incidents PagerDuty listed
    resent: list[str] = field(default_factory=list)
    repaged: list[str] = field(default_factory=list)
    by_hand: list[str] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)
    error: str | None = None

    @property
    def found(self) -> int:
        return len(self.resent) + len(self.repaged) + len(self.by_hand) + len(self.unknown)

    @property
    def fixed(self) -> int:
        return len(self.resent) + len(self.repaged)

    @property
    def left(self) -> int:
        return len(self.by_hand) + len(self.unknown)

    def details(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "resent": self.resent,
            "repaged": self.repaged,
            "by_hand": self.by_hand,
            "unknown": [u.to_json() for u in self.unknown],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "connector": self.connector,
            "started_at": format_rfc3339(self.started_at),
            "finished_at": format_rfc3339(self.finished_at),
            "dry_run": self.dry_run,
            "found": self.found,
            "fixed": self.fixed,
            "left": self.left,
            "error": self.error,
            **self.details(),
        }


def latest(connection: Connection, connector: str, *, limit: int = 10) -> list[Summary]:
    """The connector's newest passes, newest first."""
    found = connection.execute(
        select(reconcile_runs)
        .where(reconcile_runs.c.connector_name == connector)
        .order_by(reconcile_runs.c.id.desc())
        .limit(limit)
    )
    return [_from_row(row._mapping) for row in found]


def latest_of_each(connection: Connection) -> dict[str, Summary]:
    """Every connector's newest pass (what /metrics shows)."""
    newest = (
        select(func.max(reconcile_runs.c.id).label("id"))
        .group_by(reconcile_runs.c.connector_name)
        .subquery()
    )
    found = connection.execute(
        select(reconcile_runs).join(newest, reconcile_runs.c.id == newest.c.id)
    )
    return {row.connector_name: _from_row(row._mapping) for row in found}


def _from_row(row: Any) -> Summary:
    details = row["details"] or {}
    return Summary(
        id=row["id"],
        connector=row["connector_name"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        dry_run=row["dry_run"],
        checked=details.get("checked", 0),
        resent=list(details.get("resent", [])),
        repaged=list(details.get("repaged", [])),
        by_hand=list(details.get("by_hand", [])),
        unknown=[Unknown(**u) for u in details.get("unknown", [])],
        error=row["error"],
    )

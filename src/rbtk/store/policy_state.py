"""Loading and saving the policy's remembered state: only the slice an input needs."""

from collections.abc import Collection
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, and_, delete, or_, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from rbtk.policy.rules import Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import Condition, Kind, Release, ReleaseKey, State
from rbtk.store.db import is_postgres
from rbtk.store.tables import conditions, releases

_CHUNK = 500  # keep IN lists well under SQLite's bound-parameter limit


def lock_keys(connection: Connection, keys: Collection[str]) -> None:
    """On PostgreSQL, serialise transactions that touch the same conditions.

    Every writer takes these locks in the same (sorted) order, so they cannot deadlock;
    SQLite needs nothing, its BEGIN IMMEDIATE already admits one writer at a time.
    """
    if not keys or not is_postgres(connection):
        return
    connection.execute(
        text(
            "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h"
            " FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS s"
        ),
        {"keys": sorted(keys)},
    )


def load(
    connection: Connection, condition_keys: Collection[str], release_keys: Collection[ReleaseKey]
) -> State:
    found: dict[str, Condition] = {}
    keys = sorted(condition_keys)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = connection.execute(select(conditions).where(conditions.c.key.in_(chunk)))
        found.update((row.key, condition(row._mapping)) for row in rows)
    marks: dict[ReleaseKey, Release] = {}
    wanted = sorted(release_keys)
    for start in range(0, len(wanted), _CHUNK):
        pairs = wanted[start : start + _CHUNK]
        query = select(releases).where(
            tuple_(releases.c.project_slug, releases.c.branch).in_(pairs)
            if is_postgres(connection)
            else or_(
                *(and_(releases.c.project_slug == p, releases.c.branch == b) for p, b in pairs)
            )
        )
        for row in connection.execute(query):
            marks[(row.project_slug, row.branch)] = Release(row.tag, row.published_at)
    return State(found, marks)


def load_due(connection: Connection, now: datetime, limit: int) -> State:
    """Conditions whose due time has come, skipping any another instance is working on."""
    query = (
        select(conditions)
        .where(conditions.c.due_at <= now)
        .order_by(conditions.c.due_at)
        .limit(limit)
    )
    if is_postgres(connection):
        query = query.where(text("pg_try_advisory_xact_lock(hashtextextended(key, 0))"))
    rows = connection.execute(query)
    return State({row.key: condition(row._mapping) for row in rows})


def next_due(connection: Connection) -> datetime | None:
    return connection.execute(
        select(conditions.c.due_at)
        .where(conditions.c.due_at.is_not(None))
        .order_by(conditions.c.due_at)
        .limit(1)
    ).scalar()


def save(connection: Connection, before: State, after: State) -> None:
    """Write what changed between two states, in a few statements whatever the size."""
    gone = [key for key in before.conditions if key not in after.conditions]
    for start in range(0, len(gone), _CHUNK):
        chunk = gone[start : start + _CHUNK]
        connection.execute(delete(conditions).where(conditions.c.key.in_(chunk)))
    changed = [_row(c) for key, c in after.conditions.items() if before.conditions.get(key) != c]
    if changed:
        _upsert(connection, conditions, changed, ["key"])
    marks = [
        {"project_slug": p, "branch": b, "tag": r.tag, "published_at": r.published_at}
        for (p, b), r in after.releases.items()
        if before.releases.get((p, b)) != r
    ]
    if marks:
        _upsert(connection, releases, marks, ["project_slug", "branch"])


def _upsert(
    connection: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]
) -> None:
    connection.execute(_upsert_statement(is_postgres(connection), table, tuple(keys)), rows)


@cache
def _upsert_statement(postgres: bool, table: Any, keys: tuple[str, ...]) -> Any:
    """Built once per table: rebuilding it on every ingest was a measurable share of CPU."""
    statement = (postgresql if postgres else sqlite).insert(table)
    columns = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=columns)


def condition(row: Any) -> Condition:
    """A stored condition, from its row."""
    return Condition(
        key=row["key"],
        kind=Kind(row["kind"]),
        project_slug=row["project_slug"],
        since=row["since"],
        details=row["details"],
        rule=Rule(row["rule"]) if row["rule"] else None,
        severity=Severity(row["severity"]) if row["severity"] else None,
        due_at=row["due_at"],
        fired=frozenset(Rule(r) for r in row["fired"]),
        started_by=row["started_by"],
    )


def _row(condition: Condition) -> dict[str, Any]:
    return {
        "key": condition.key,
        "kind": condition.kind.value,
        "project_slug": condition.project_slug,
        "since": condition.since,
        "rule": condition.rule.value if condition.rule else None,
        "severity": condition.severity.value if condition.severity else None,
        "due_at": condition.due_at,
        "details": dict(condition.details),
        "fired": sorted(condition.fired),
        "started_by": condition.started_by,
    }

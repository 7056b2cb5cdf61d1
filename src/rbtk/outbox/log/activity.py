"""What the delivery log did hour by hour over the last day: triggers, resolves, failures and
retries per hour, for the pages' chart. One grouped read over the day's rows (by
`ix_outbox_created`), whatever their number: the database counts, not Python."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, String, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from rbtk.channels import pagerduty
from rbtk.outbox.status import Status
from rbtk.policy.state import Action
from rbtk.store.db import is_postgres
from rbtk.store.tables import outbox

HOURS = 24


@dataclass(frozen=True)
class Hour:
    start: datetime
    triggers: int = 0
    resolves: int = 0
    failures: int = 0  # rows created that hour that failed for good
    retries: int = 0  # rows created that hour that took more than one attempt


def last_day(connection: Connection, *, now: datetime) -> list[Hour]:
    """The last 24 hours of PagerDuty rows, oldest first, the current hour last."""
    first = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first -= timedelta(hours=HOURS - 1)
    bucket = _hour(connection).label("hour")
    rows = connection.execute(
        select(
            bucket,
            func.sum(case((outbox.c.action == Action.TRIGGER.value, 1), else_=0)),
            func.sum(case((outbox.c.action == Action.RESOLVE.value, 1), else_=0)),
            func.sum(case((outbox.c.status == Status.FAILED.value, 1), else_=0)),
            func.sum(case((outbox.c.attempts > 1, 1), else_=0)),
        )
        .where(outbox.c.channel == pagerduty.kind, outbox.c.created_at >= first)
        .group_by(bucket)
    )
    counted = {hour: counts for hour, *counts in rows}
    hours = [first + timedelta(hours=n) for n in range(HOURS)]
    return [Hour(at, *map(int, counted.get(_key(at), (0, 0, 0, 0)))) for at in hours]


def _hour(connection: Connection) -> ColumnElement[str]:
    """The hour a row was created in, as "YYYY-MM-DD HH" (UTC) on either database."""
    if is_postgres(connection):
        utc = func.timezone("UTC", outbox.c.created_at)
        return func.to_char(utc, "YYYY-MM-DD HH24", type_=String)
    # SQLite keeps UTC times as "YYYY-MM-DD HH:MM:SS[.ffffff]".
    return func.substr(outbox.c.created_at, 1, 13, type_=String)


def _key(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H")

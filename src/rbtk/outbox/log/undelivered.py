"""rbtk's own health: the pages it has not managed to deliver.

What the incidents page shows (the oldest undelivered page, at the severity it is being sent),
what /metrics shows (the oldest undelivered critical page), and what makes rbtk say it cannot
page (a page undelivered for longer than `RBTK_STUCK_AFTER_S`). All three read the same rows
the same way (`_pending`, oldest first), so the page's line and the banner cannot disagree:
while a page is stuck, it or an older one is the oldest undelivered.
A page held by a window or a storm is not undelivered: it is logged as held, never queued.
Every query reads only rows still to be sent (through ix_outbox_status), never the whole
delivery log.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, select, true

from rbtk.outbox.rows import CHANGE
from rbtk.outbox.status import PENDING, Status
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action
from rbtk.store.db import count_up_to
from rbtk.store.tables import outbox

MOST_COUNTED = 1000  # "1,000 pages": past that, how many more changes nothing an operator does


@dataclass(frozen=True)
class Undelivered:
    """A page still to be sent, and what its last attempt was told."""

    id: int
    connector_name: str
    dedup_key: str
    severity: str  # as it is being sent: after its connector's cap
    status: str  # queued or retrying
    created_at: datetime
    attempts: int
    http_status: int | None
    message: str | None

    def age_s(self, now: datetime) -> float:
        return max((now - self.created_at).total_seconds(), 0.0)

    @property
    def answer(self) -> str:
        """ "HTTP 500 Internal Server Error", "connection refused", "" when never tried;
        without a closing period, to sit inside a sentence."""
        said = (self.message or "").rstrip(".")
        if self.http_status is None:
            return said
        return f"HTTP {self.http_status}" + (f" {said}" if said else "")


@dataclass(frozen=True)
class Stuck:
    """Pages undelivered for longer than the stuck threshold."""

    count: int  # counted no further than MOST_COUNTED
    oldest: Undelivered
    now: datetime  # when it was found so

    @property
    def oldest_age_s(self) -> float:
        return self.oldest.age_s(self.now)


def _pending() -> ColumnElement[bool]:
    # A PagerDuty row is one naming a connector. Not `channel == "pagerduty"`: SQLite (no
    # statistics) would read that through ix_outbox_budget, whose first column is the
    # channel, i.e. nearly the whole log; this way it reads only the rows still to be sent.
    # A change event is no page: one waiting says nothing about paging.
    return and_(
        outbox.c.status.in_(PENDING),
        outbox.c.connector_name.is_not(None),
        outbox.c.action != CHANGE,
    )


def oldest(connection: Connection) -> Undelivered | None:
    """The oldest page (trigger or resolve, any severity) still to be sent, or None."""
    return _oldest(connection, true())


def oldest_critical(connection: Connection) -> Undelivered | None:
    """The oldest critical trigger still to be sent, or None."""
    return _oldest(
        connection,
        and_(
            outbox.c.severity == Severity.CRITICAL.value,
            outbox.c.action == Action.TRIGGER.value,
        ),
    )


def stuck(connection: Connection, *, now: datetime, after: timedelta) -> Stuck | None:
    """The pages (triggers and resolves) undelivered for longer than `after`, or None."""
    older = outbox.c.created_at < now - after
    oldest = _oldest(connection, older)
    if oldest is None:
        return None
    count = count_up_to(connection, select(outbox.c.id).where(_pending(), older), MOST_COUNTED)
    return Stuck(count, oldest, now)


def failed_since(connection: Connection, since: datetime) -> int:
    """Pages that failed for good (PagerDuty never took them) since `since`, counted no
    further than MOST_COUNTED: what a recovery must not pass over in silence."""
    failed = select(outbox.c.id).where(
        outbox.c.status == Status.FAILED.value,
        outbox.c.connector_name.is_not(None),
        outbox.c.last_attempt_at >= since,
    )
    return count_up_to(connection, failed, MOST_COUNTED)


def _oldest(connection: Connection, which: ColumnElement[bool]) -> Undelivered | None:
    row = connection.execute(
        select(
            outbox.c.id,
            outbox.c.connector_name,
            outbox.c.dedup_key,
            outbox.c.severity,
            outbox.c.status,
            outbox.c.created_at,
            outbox.c.attempts,
            outbox.c.http_status,
            outbox.c.message,
        )
        .where(_pending(), which)
        .order_by(outbox.c.created_at, outbox.c.id)
        .limit(1)
    ).first()
    return None if row is None else Undelivered(*row)

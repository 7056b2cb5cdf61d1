"""Test the rotation end to end at least quarterly: a connector not verified for 90 days is
told once to the "rbtk health" channels, and again only after it was verified and fell due
again."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, update

from rbtk.context import Context
from rbtk.reconcile import reminders
from rbtk.store.tables import connectors
from tests.factories import add_connector
from tests.outbox.log.test_stuck import channels, told

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)


def test_a_connector_never_verified_is_told_once_after_90_days(context: Context) -> None:
    channels(context)
    add_connector(context, now=T0)

    assert reminders.tell(context, now=T0 + timedelta(days=89)) == 0
    assert reminders.tell(context, now=T0 + timedelta(days=91)) == 1
    assert reminders.tell(context, now=T0 + timedelta(days=92)) == 0  # once per time due

    assert told(context) == [
        (
            "rbtk-ops",
            "rbtk.health.verify",
            "[Roboticks] Test the rotation end to end: pd-production (never verified) not "
            "verified in 90 days. — rbtk",
        )
    ]


def test_verified_since_it_is_not_due_until_90_days_later_then_told_again(
    context: Context,
) -> None:
    channels(context)
    add_connector(context, now=T0)
    reminders.tell(context, now=T0 + timedelta(days=91))
    verified = T0 + timedelta(days=95)
    with context.engine.begin() as connection:
        connection.execute(update(connectors).values(verified_at=verified, verified_urgency="high"))

    assert reminders.overdue(context, now=verified + timedelta(days=89)) == []
    assert reminders.tell(context, now=verified + timedelta(days=91)) == 1
    assert told(context)[-1][2] == (
        "[Roboticks] Test the rotation end to end: pd-production (last verified 2026-08-28) "
        "not verified in 90 days. — rbtk"
    )
    assert reminders.banner(reminders.overdue(context, now=verified + timedelta(days=91))) == (
        "Test the rotation end to end: pd-production (last verified 2026-08-28) not verified "
        "in 90 days. Send a critical test event from the connector's page (with a REST API "
        "key set)."
    )


def test_once_told_a_pass_only_reads(context: Context) -> None:
    channels(context)
    add_connector(context, now=T0)
    reminders.tell(context, now=T0 + timedelta(days=91))
    writes: list[str] = []

    def record(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMM")):
            writes.append(statement)  # a write, or SQLite's write lock taken

    event.listen(context.engine, "before_cursor_execute", record)
    try:
        assert reminders.tell(context, now=T0 + timedelta(days=92)) == 0
    finally:
        event.remove(context.engine, "before_cursor_execute", record)

    assert writes == []

"""The last day of PagerDuty deliveries, hour by hour, counted by the database."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from rbtk.context import Context
from rbtk.outbox.log.activity import Hour, last_day
from rbtk.store.tables import outbox

NOW = datetime(2026, 5, 25, 14, 20, tzinfo=UTC)


def row(at: datetime, action: str = "trigger", **fields: Any) -> dict[str, Any]:
    return {
        "connector_name": "pd-production",
        "channel_name": None,
        "channel": "pagerduty",
        "destination": b"gAAAA-encrypted",
        "key_fingerprint": "f" * 32,
        "endpoint": "https://events.pagerduty.com/v2/enqueue",
        "dedup_key": f"rbtk:x:{at.isoformat()}:{action}",
        "action": action,
        "severity": "critical",
        "priority": 0,
        "body": {},
        "status": "sent",
        "attempts": 1,
        "created_at": at,
        "next_attempt_at": at,
        **fields,
    }


def test_each_hour_counts_triggers_resolves_failures_and_retries(context: Context) -> None:
    this_hour = NOW.replace(minute=0)
    rows = [
        row(NOW - timedelta(minutes=5)),
        row(NOW - timedelta(minutes=15), "resolve"),
        row(this_hour - timedelta(minutes=1), status="failed", attempts=4),  # 13:59
        row(this_hour - timedelta(hours=2, minutes=30), attempts=3),  # 11:30
        row(this_hour - timedelta(hours=23, minutes=59)),  # 14:01 yesterday: the first hour
        row(this_hour - timedelta(hours=24, minutes=1)),  # too old
        row(NOW, channel="slack", connector_name=None, channel_name="ci", action="notify"),
    ]
    with context.engine.begin() as connection:
        connection.execute(insert(outbox), rows)

    with context.engine.connect() as connection:
        hours = last_day(connection, now=NOW)

    assert len(hours) == 24
    assert hours[0].start == datetime(2026, 5, 24, 15, 0, tzinfo=UTC)
    assert hours[-1] == Hour(datetime(2026, 5, 25, 14, 0, tzinfo=UTC), triggers=1, resolves=1)
    assert hours[-2] == Hour(datetime(2026, 5, 25, 13, 0, tzinfo=UTC), 1, 0, 1, 1)
    assert hours[-4] == Hour(datetime(2026, 5, 25, 11, 0, tzinfo=UTC), 1, 0, 0, 1)
    assert sum(h.triggers for h in hours) == 3  # not yesterday's 14:01, nor chat

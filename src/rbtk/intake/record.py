"""What each event did, kept with it: whether it paged, why not where it did not, and each
connector's decision on each page it started (sent, held or left out, by which stage: the
pipeline's notes, `rbtk.outbox.pipeline.stages.Note`).

`GET /api/v1/events/{id}`, `rbtk events list --paged` and the events pages read this record
and never re-derive it. An event records its outcome when it is ingested; a condition it
started may page later, when its threshold passes on a scheduler tick, and that page is the
event's too: the tick's rows name the event (`Condition.started_by`), and `ticks` adds to
the event's record that it paged, when, and what each connector did with it.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from rbtk.outbox.fanout.notifications import FanOut
from rbtk.policy.events import Event
from rbtk.policy.state import Action, Notification
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.tables import events

THRESHOLD_PASSED = "threshold passed at "


def ingested(
    connection: Connection,
    batch: Sequence[Event],
    fanout: FanOut,
    policy_reasons: Mapping[str, list[str]],
) -> None:
    """Each event of an ingested batch: whether it paged, and the policy's and routing's
    reasons where it did not."""
    _write(
        connection,
        [
            {
                "event_id": event.id,
                "paged": event.id in fanout.paged_events,
                "reasons": [*policy_reasons.get(event.id, ()), *fanout.reasons.get(event.id, ())],
                "decisions": fanout.decisions.get(event.id, []),
            }
            for event in batch
        ],
    )


def ticks(
    connection: Connection, notifications: Sequence[Notification], fanout: FanOut, now: datetime
) -> None:
    """The events whose conditions a tick triggered: paged (when a connector took the page,
    sent or held), with when and at what, and why a connector did not take it."""
    said: dict[str, list[str]] = {}
    for notification in notifications:
        if notification.event_id is None or notification.action is not Action.TRIGGER:
            continue
        said.setdefault(notification.event_id, []).append(
            f"{THRESHOLD_PASSED}{format_rfc3339(now)}: {notification.rule} "
            f"({notification.severity}), {notification.summary}"
        )
    if not said:
        return
    known = connection.execute(
        select(events.c.id, events.c.paged, events.c.reasons, events.c.decisions).where(
            events.c.id.in_(said)
        )
    ).all()
    _write(  # none known: pruned past retention, nothing left to record on
        connection,
        [
            {
                "event_id": row.id,
                "paged": bool(row.paged) or row.id in fanout.paged_events,
                "reasons": [
                    *(row.reasons or ()),
                    *said[row.id],
                    *fanout.reasons.get(row.id, ()),
                ],
                "decisions": [*(row.decisions or ()), *fanout.decisions.get(row.id, ())],
            }
            for row in known
        ],
    )


def _write(connection: Connection, records: list[dict[str, Any]]) -> None:
    if records:
        connection.execute(
            update(events)
            .where(events.c.id == bindparam("event_id"))
            .values(
                paged=bindparam("paged"),
                reasons=bindparam("reasons"),
                decisions=bindparam("decisions"),
            ),
            records,
        )

"""PagerDuty fan-out: notifications become outbox rows per connector, in the caller's
transaction, through the declared pipeline (`rbtk.outbox.pipeline`), with the incidents
table recording where each trigger went.

A trigger passes route → toggles → cap → suppress → storm → rows. A resolve goes exactly
where its trigger went, with the key that sent it and the severity it was sent at, window
or not. Events, threshold ticks and resolve by hand all come through `enqueue`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from rbtk.channels.pagerduty_body import resolve_body, trigger_body
from rbtk.outbox.pipeline.coalesce import coalesce
from rbtk.outbox.pipeline.lanes import PLACEHOLDER_KEY, Lane, lane_page, load_lanes, save_lanes
from rbtk.outbox.pipeline.stages import Paging, decide, page_rows, resolve_rows
from rbtk.outbox.pipeline.storm_gate import Gate
from rbtk.outbox.rows import OutboxRow, insert_one, insert_rows
from rbtk.outbox.status import Status
from rbtk.policy.state import Action, Notification
from rbtk.routing.pagerduty import Target
from rbtk.routing.snapshot import Snapshot
from rbtk.runtime.settings import Settings


@dataclass(frozen=True)
class FanOut:
    queued: int  # rows that will really be sent
    paging_events: frozenset[str]  # ids of events that reached some connector's log
    storms_opened: bool = False  # the scheduler must queue their umbrellas
    paged_events: frozenset[str] = frozenset()  # ids of events that triggered (sent or held)
    # Why, by event id, a trigger did not reach a connector, or reached it held back.
    reasons: Mapping[str, list[str]] = field(default_factory=dict)
    # Each connector's decision on each trigger, by event id, in order (`pipeline.Note`):
    # grouped once here, not searched for each event of a batch.
    decisions: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)


def enqueue(
    connection: Connection,
    notifications: Sequence[Notification],
    *,
    settings: Settings,
    now: datetime,
    config: Snapshot,
) -> FanOut:
    """Queue rows for these notifications, in the caller's transaction.

    Each trigger runs the pipeline's stages; a resolve goes to every lane its trigger
    opened. Rows that would only undo rows still waiting unsent coalesce with them
    (`rbtk.outbox.pipeline.coalesce`). Lanes change as the batch goes, so a later notification for
    the same lane sees what an earlier one sent."""
    if not notifications:
        return FanOut(0, frozenset())
    paging = paging_for(connection, {n.dedup_key for n in notifications}, config, now)
    stored = set(paging.lanes)
    built: list[OutboxRow] = []
    for notification in notifications:
        if notification.action is Action.TRIGGER:
            built += page_rows(decide(notification, paging), paging, settings)
        else:
            built += resolve_rows(notification, paging, settings)
    save_lanes(connection, stored, paging.lanes)
    built = coalesce(connection, built, open_lanes=stored, now=now)
    insert_rows(connection, built)
    return FanOut(
        sum(row.status == Status.QUEUED.value for row in built),
        frozenset(row.event_id for row in built if row.event_id),
        storms_opened=bool(paging.gate and paging.gate.opened),
        paged_events=frozenset(
            row.event_id for row in built if row.event_id and row.action == Action.TRIGGER
        ),
        reasons=paging.reasons,
        decisions=paging.decisions,
    )


def paging_for(
    connection: Connection, keys: set[str], config: Snapshot, now: datetime, *, dry: bool = False
) -> Paging:
    """What the stages read for these dedup keys; `dry`: a storm is counted, never opened."""
    return Paging(
        candidates=config.targets,
        rules=config.rules,
        windows=config.open_windows(now),
        lanes=load_lanes(connection, keys),
        now=now,
        gate=Gate(connection, config.storms, now, dry=dry),
        runbooks=config.runbooks,
    )


def enqueue_test(
    connection: Connection,
    notification: Notification,
    target: Target,
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """A connector's test trigger (or its resolve): straight to that connector, first in line,
    never suppressed — an operator pressing "Send test event" wants to see it arrive."""
    lane = Lane.new(target, notification.dedup_key, now)
    if notification.action is Action.TRIGGER:
        body = trigger_body(notification, PLACEHOLDER_KEY, base_url=settings.base_url)
    else:
        body = resolve_body(notification.dedup_key, PLACEHOLDER_KEY)
    row = lane_page(notification, target.name, lane, body, settings, now)
    return insert_one(connection, row.first_in_line(notification.at))

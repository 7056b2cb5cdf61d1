"""Applying the webhook deliveries PagerDuty sent (stored by rbtk.reconcile.webhook_inbox):
what the on-call did to rbtk's incidents, known within seconds rather than at the next
reconcile pass.

An incident event (`data.incident_key` is rbtk's dedup key) records PagerDuty's side on the
connector's lane: triggered, acknowledged or resolved, by whom (the agent), when. A lane
resolved there by hand while still firing here is settled as a reconcile pass settles it
(`passes.resolved_by_hand`: marked, or paged again with the connector's opt-in); one opened
there again is no longer marked. Every other event type is stored and left: PagerDuty adds
types over time, and each must still be answered 2xx.

A delivery is claimed by the conditional update of its `processed_at`, so the API (right
after answering) and the delivery process (each reconcile loop, for what a restart left)
may both look without applying one twice. News older than what a lane holds is ignored:
PagerDuty keeps one incident's events in order, but a retried delivery may still come late.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update

from rbtk.context import Context
from rbtk.reconcile import passes
from rbtk.reconcile.webhook_inbox import parsed
from rbtk.runtime.timefmt import parse_rfc3339
from rbtk.store.tables import incidents, pagerduty_webhook_events

STATUSES = frozenset({"triggered", "acknowledged", "resolved"})
USED = frozenset(
    f"incident.{what}"
    for what in ("triggered", "acknowledged", "unacknowledged", "resolved", "reopened")
)
BATCH = 200
MIN_KEPT_DAYS = 2


@dataclass(frozen=True)
class Side:
    """PagerDuty's side of one incident, as one delivery tells it."""

    dedup_key: str
    status: str
    by: str | None  # the agent's name; None when automation did it
    at: datetime


@dataclass
class Applied:
    deliveries: int = 0  # claimed and looked at
    recorded: int = 0  # lanes whose PagerDuty side changed
    repaged: list[str] = field(default_factory=list)


def side_of(body: str, received_at: datetime) -> Side | None:
    """The incident change a delivery tells, or None when it tells none rbtk uses."""
    event = parsed(body)
    if event is None or event.get("event_type") not in USED:
        return None
    data = event.get("data")
    if not isinstance(data, dict):
        return None
    key, status = data.get("incident_key"), data.get("status")
    if not isinstance(key, str) or not key or status not in STATUSES:
        return None
    return Side(key, str(status), _agent(event.get("agent")), _when(event, received_at))


def apply_pending(context: Context, *, now: datetime) -> Applied:
    """Apply what was received and not applied yet, oldest first, a batch per transaction."""
    total = Applied()
    while True:
        with context.engine.begin() as connection:
            done = _apply_batch(connection, context, now)
        total.deliveries += done.deliveries
        total.recorded += done.recorded
        total.repaged += done.repaged
        if done.repaged:
            context.wake_delivery()
        if done.deliveries < BATCH:
            return total


def prune(context: Context, *, now: datetime) -> int:
    """Forget applied deliveries older than RBTK_RETENTION_DAYS (never under 2 days: PagerDuty
    retries a delivery for 48 h, and a repeat is known by its row), a batch at a time, oldest
    first; how many went."""
    days = context.settings.retention_days
    if not days:
        return 0
    before = now - timedelta(days=max(days, MIN_KEPT_DAYS))
    with context.engine.begin() as connection:
        oldest = (
            select(pagerduty_webhook_events.c.id)
            .where(
                pagerduty_webhook_events.c.processed_at.is_not(None),
                pagerduty_webhook_events.c.received_at < before,
            )
            .order_by(pagerduty_webhook_events.c.id)
            .limit(BATCH)
        )
        ids = list(connection.execute(oldest).scalars())
        if ids:
            connection.execute(
                delete(pagerduty_webhook_events).where(pagerduty_webhook_events.c.id.in_(ids))
            )
    return len(ids)


def _apply_batch(connection: Connection, context: Context, now: datetime) -> Applied:
    done = Applied()
    pending = connection.execute(
        select(
            pagerduty_webhook_events.c.id,
            pagerduty_webhook_events.c.connector_id,
            pagerduty_webhook_events.c.body,
            pagerduty_webhook_events.c.received_at,
        )
        .where(pagerduty_webhook_events.c.processed_at.is_(None))
        .order_by(pagerduty_webhook_events.c.id)
        .limit(BATCH)
    ).all()
    resolved: dict[int, list[str]] = {}
    for delivery in pending:
        claimed = connection.execute(
            update(pagerduty_webhook_events)
            .where(
                pagerduty_webhook_events.c.id == delivery.id,
                pagerduty_webhook_events.c.processed_at.is_(None),
            )
            .values(processed_at=now)
        )
        if claimed.rowcount != 1:
            continue  # another process applied it
        done.deliveries += 1
        side = side_of(delivery.body, delivery.received_at)
        if side is not None and _record(connection, delivery.connector_id, side):
            done.recorded += 1
            if side.status == "resolved":
                resolved.setdefault(delivery.connector_id, []).append(side.dedup_key)
            else:
                passes.reopened(
                    connection, connector_id=delivery.connector_id, keys=[side.dedup_key]
                )
    for connector_id, keys in resolved.items():
        still = _open(connection, connector_id, keys)
        done.repaged += passes.resolved_by_hand(
            connection, context, connector_id=connector_id, keys=still, now=now
        )
    return done


def _record(connection: Connection, connector_id: int, side: Side) -> bool:
    """Set the lane's PagerDuty side, unless it holds newer news; whether it was set."""
    lane = (incidents.c.connector_id == connector_id) & (incidents.c.dedup_key == side.dedup_key)
    newer = incidents.c.pagerduty_at.is_(None) | (incidents.c.pagerduty_at <= side.at)
    changed = connection.execute(
        update(incidents)
        .where(lane, newer)
        .values(pagerduty_status=side.status, pagerduty_by=side.by, pagerduty_at=side.at)
    )
    return bool(changed.rowcount)


def _open(connection: Connection, connector_id: int, keys: list[str]) -> list[str]:
    """Those still resolved in PagerDuty after this batch (the last word wins), that rbtk
    told PagerDuty of and holds open."""
    found = connection.execute(
        select(incidents.c.dedup_key).where(
            incidents.c.connector_id == connector_id,
            incidents.c.dedup_key.in_(sorted(set(keys))),
            incidents.c.pagerduty_status == "resolved",
            incidents.c.announced.is_(True),
            incidents.c.held.is_(False),
        )
    )
    return sorted(found.scalars())


def _agent(agent: Any) -> str | None:
    if not isinstance(agent, dict):
        return None
    name = agent.get("summary") or agent.get("name")
    return str(name)[:255] if name else None


def _when(event: dict[str, Any], received_at: datetime) -> datetime:
    try:
        return parse_rfc3339(event.get("occurred_at"))
    except ValueError:
        return received_at

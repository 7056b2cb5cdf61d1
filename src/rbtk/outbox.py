"""The outbox: durable rows for every notification to send, claimed by delivery workers.

The outbox is the queue and the delivery log at once. Rows for one connector and dedup key
form a lane that is sent strictly in order: only the oldest unfinished row of a lane can be
claimed, so a resolve never overtakes its trigger, even while the trigger is retried.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import aliased

from rbtk.channels.base import Result, Verdict
from rbtk.channels.pagerduty_body import resolve_body, trigger_body
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Notification
from rbtk.routing import Target, load_targets, targets
from rbtk.settings import Settings
from rbtk.store.db import is_postgres
from rbtk.store.tables import incidents, outbox

_PLACEHOLDER_KEY = "0" * 32  # bodies are sized with a key-long stand-in, the key is added late


class Status(StrEnum):
    QUEUED = "queued"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


PENDING = (Status.QUEUED.value, Status.RETRYING.value)


def priority(action: Action, severity: Severity) -> int:
    """Under a rate budget, resolves and critical triggers go before everything else."""
    return 0 if action is Action.RESOLVE or severity is Severity.CRITICAL else 1


def enqueue(
    connection: Connection,
    notifications: Sequence[Notification],
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """Fan notifications out to connectors as outbox rows, in the caller's transaction."""
    if not notifications:
        return 0
    candidates = load_targets(connection)
    opened = _open_incidents(connection, {n.dedup_key for n in notifications})
    rows: list[dict[str, Any]] = []
    opening: dict[tuple[int, str], dict[str, Any]] = {}
    closing: list[tuple[int, str]] = []
    for notification in notifications:
        key = notification.dedup_key
        if notification.action is Action.TRIGGER:
            for target in targets(notification, candidates):
                lane = (target.id, key)
                incident = opened.get(lane) or opening.get(lane)
                if incident is None:
                    incident = {
                        "connector_id": target.id,
                        "dedup_key": key,
                        "routing_key": target.routing_key,
                        "key_fingerprint": target.key_fingerprint,
                        "region": target.region,
                        "opened_at": now,
                    }
                    opening[lane] = incident
                body = trigger_body(notification, _PLACEHOLDER_KEY, base_url=settings.base_url)
                rows.append(_row(notification, target.name, incident, body, settings, now))
        else:
            for (connector_id, dedup_key), incident in list(opened.items()) + list(opening.items()):
                if dedup_key != key:
                    continue
                name = next((t.name for t in candidates if t.id == connector_id), "(removed)")
                body = resolve_body(key, _PLACEHOLDER_KEY)
                rows.append(_row(notification, name, incident, body, settings, now))
                closing.append((connector_id, dedup_key))
            for lane in [lane for lane in opening if lane[1] == key]:
                del opening[lane]
            for lane in [lane for lane in opened if lane[1] == key]:
                del opened[lane]
    if closing:
        connection.execute(
            delete(incidents).where(
                and_(
                    incidents.c.connector_id == bindparam("cid"),
                    incidents.c.dedup_key == bindparam("key"),
                )
            ),
            [{"cid": cid, "key": key} for cid, key in closing],
        )
    if opening:  # after the deletes: a key resolved and triggered again in one batch
        connection.execute(insert(incidents), list(opening.values()))
    if rows:
        connection.execute(insert(outbox), rows)
    return len(rows)


def enqueue_test(
    connection: Connection,
    notification: Notification,
    target: Target,
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """A connector's test trigger (or its resolve): straight to that connector, first in line."""
    incident = {
        "connector_id": target.id,
        "routing_key": target.routing_key,
        "key_fingerprint": target.key_fingerprint,
        "region": target.region,
    }
    if notification.action is Action.TRIGGER:
        body = trigger_body(notification, _PLACEHOLDER_KEY, base_url=settings.base_url)
    else:
        body = resolve_body(notification.dedup_key, _PLACEHOLDER_KEY)
    row = _row(notification, target.name, incident, body, settings, now)
    row["priority"] = -1
    row["next_attempt_at"] = notification.at
    result = connection.execute(insert(outbox).returning(outbox.c.id), [row])
    return int(result.scalar_one())


def _row(
    notification: Notification,
    connector_name: str,
    incident: dict[str, Any],
    body: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    body.pop("routing_key")
    return {
        "connector_id": incident.get("connector_id"),
        "connector_name": connector_name,
        "routing_key": incident["routing_key"],
        "key_fingerprint": incident["key_fingerprint"],
        "endpoint": settings.pagerduty_endpoint(incident["region"]),
        "event_id": notification.event_id,
        "event_type": notification.event_type,
        "dedup_key": body["dedup_key"],
        "action": notification.action.value,
        "severity": notification.severity.value,
        "priority": priority(notification.action, notification.severity),
        "body": body,
        "status": Status.QUEUED.value,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def _open_incidents(
    connection: Connection, keys: set[str]
) -> dict[tuple[int, str], dict[str, Any]]:
    found: dict[tuple[int, str], dict[str, Any]] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        rows = connection.execute(
            select(incidents).where(incidents.c.dedup_key.in_(ordered[start : start + 500]))
        )
        for row in rows:
            found[(row.connector_id, row.dedup_key)] = dict(row._mapping)
    return found


# claiming and recording


@dataclass(frozen=True)
class Claimed:
    id: int
    connector_name: str
    routing_key: bytes
    endpoint: str
    body: dict[str, Any]
    attempts: int
    created_at: datetime


def claim(
    connection: Connection, *, now: datetime, limit: int, lease: timedelta, rate_per_min: int
) -> list[Claimed]:
    """Take up to `limit` sendable rows: due, not leased, first in their lane, within budget.

    A lease rather than a status keeps a crash harmless: rows a dead worker held become
    claimable again when the lease runs out.
    """
    earlier = aliased(outbox)
    blocked = (
        select(earlier.c.id)
        .where(
            earlier.c.connector_name == outbox.c.connector_name,
            earlier.c.dedup_key == outbox.c.dedup_key,
            earlier.c.id < outbox.c.id,
            earlier.c.status.in_(PENDING),
        )
        .exists()
    )
    query = (
        select(
            outbox.c.id,
            outbox.c.connector_name,
            outbox.c.routing_key,
            outbox.c.key_fingerprint,
            outbox.c.endpoint,
            outbox.c.body,
            outbox.c.attempts,
            outbox.c.created_at,
        )
        .where(
            outbox.c.status.in_(PENDING),
            outbox.c.next_attempt_at <= now,
            (outbox.c.claimed_until.is_(None)) | (outbox.c.claimed_until < now),
            ~blocked,
        )
        .order_by(outbox.c.priority, outbox.c.id)
        .limit(limit)
    )
    spent: dict[str, int] = {}
    if rate_per_min:
        spent = _spent(connection, now)
        exhausted = [fp for fp, count in spent.items() if count >= rate_per_min]
        if exhausted:
            query = query.where(outbox.c.key_fingerprint.not_in(exhausted))
    if is_postgres(connection):
        query = query.with_for_update(skip_locked=True, of=outbox)
    taken: list[Claimed] = []
    for row in connection.execute(query):
        if rate_per_min:
            if spent.get(row.key_fingerprint, 0) >= rate_per_min:
                continue
            spent[row.key_fingerprint] = spent.get(row.key_fingerprint, 0) + 1
        taken.append(
            Claimed(
                row.id,
                row.connector_name,
                row.routing_key,
                row.endpoint,
                row.body,
                row.attempts,
                row.created_at,
            )
        )
    if taken:
        connection.execute(
            update(outbox)
            .where(outbox.c.id.in_([c.id for c in taken]))
            .values(claimed_until=now + lease, last_attempt_at=now)
        )
    return taken


def _spent(connection: Connection, now: datetime) -> dict[str, int]:
    """Attempts per routing key over the last 60 s (PagerDuty's sliding window)."""
    rows = connection.execute(
        select(outbox.c.key_fingerprint, func.count())
        .where(outbox.c.last_attempt_at > now - timedelta(seconds=60))
        .group_by(outbox.c.key_fingerprint)
    )
    return {fingerprint: count for fingerprint, count in rows}


def record(
    connection: Connection,
    outcomes: Sequence[tuple[Claimed, Result]],
    *,
    now: datetime,
    settings: Settings,
    rng: random.Random | None = None,
) -> None:
    """Write what each attempt came to, in one statement for the whole batch."""
    if not outcomes:
        return
    rng = rng or random.Random()
    values = []
    for claimed, result in outcomes:
        attempts = claimed.attempts + 1
        status, next_at, message = _next_step(claimed, result, attempts, now, settings, rng)
        values.append(
            {
                "row_id": claimed.id,
                "status": status.value,
                "attempts": attempts,
                "next_attempt_at": next_at,
                "http_status": result.http_status,
                "message": message,
                "errors": result.errors,
                "latency_ms": result.latency_ms,
            }
        )
    connection.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("row_id"))
        .values(
            status=bindparam("status"),
            attempts=bindparam("attempts"),
            next_attempt_at=bindparam("next_attempt_at"),
            http_status=bindparam("http_status"),
            message=bindparam("message"),
            errors=bindparam("errors"),
            latency_ms=bindparam("latency_ms"),
            claimed_until=None,
        ),
        values,
    )


def _next_step(
    claimed: Claimed,
    result: Result,
    attempts: int,
    now: datetime,
    settings: Settings,
    rng: random.Random,
) -> tuple[Status, datetime, str]:
    if result.verdict is Verdict.SENT:
        return Status.SENT, now, result.message
    if result.verdict is Verdict.FAILED:
        return Status.FAILED, now, result.message
    delay = backoff(attempts, settings.retry_base_s, settings.retry_cap_s, rng)
    if result.retry_after_s is not None:
        delay = max(delay, min(result.retry_after_s, settings.max_retry_age_s))
    next_at = now + timedelta(seconds=delay)
    if next_at - claimed.created_at > timedelta(seconds=settings.max_retry_age_s):
        message = f"gave up after {attempts} attempts: {result.message}"
        return Status.FAILED, now, message
    return Status.RETRYING, next_at, result.message


def backoff(attempts: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: half fixed, half random, so retries spread out."""
    ceiling = min(cap_s, base_s * 2.0 ** (attempts - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def next_pending_at(connection: Connection) -> datetime | None:
    """When the earliest pending row becomes due (for the delivery loop's sleep)."""
    return connection.execute(
        select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status.in_(PENDING))
    ).scalar()


def release_leases(connection: Connection) -> int:
    """Free rows a previous process held when it died, so they are sent now, not when
    their leases run out. Only for a database one instance owns (SQLite)."""
    result = connection.execute(
        update(outbox)
        .where(outbox.c.status.in_(PENDING), outbox.c.claimed_until.is_not(None))
        .values(claimed_until=None)
    )
    return result.rowcount

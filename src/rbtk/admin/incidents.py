"""What is firing, what is about to page and what is held: the policy's conditions, each with
where it went per connector; and resolving one by hand.

A condition is *firing* once a rule fired for it (it has a severity) and a connector took its
page, *not paged* when a rule fired but no connector took it (the record of the event that
started it says why), *pending* while it waits for a threshold (an air-gapped pool offline
for 7 minutes pages at 15), *held* while a suppression window or a storm keeps its trigger
back on some connector. Resolving by hand is for conditions that never clear by themselves
(standard amendments) or that an operator knows are over: the resolve goes wherever the
trigger went, and an event records who.

    NotFound ── UnknownIncident — no condition has that dedup key
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, insert, select

from rbtk.outbox.fanout.notifications import enqueue
from rbtk.outbox.pipeline.stages import LEFT_OUT
from rbtk.outbox.status import PENDING, Status
from rbtk.policy import engine
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Condition, Kind, Notification, State
from rbtk.routing.snapshot import Snapshot
from rbtk.runtime.errors import NotFound
from rbtk.runtime.settings import Settings
from rbtk.store import policy_state
from rbtk.store.tables import conditions, connectors, events, incidents, outbox, storms

RESOLVED_BY_HAND = "rbtk.resolved_by_hand"  # the event that records who resolved what
MAX_LIMIT = 500
RESOLVED_IN_PAGERDUTY = "resolved in PagerDuty by hand"


class Filter(StrEnum):
    FIRING = "firing"
    PENDING = "pending"
    HELD = "held"
    ALL = "all"


class UnknownIncident(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__(f"nothing is firing or pending with dedup key {key!r}")


@dataclass(frozen=True)
class PagerDutySide:
    """What PagerDuty last said of a lane's incident, through its webhooks."""

    status: str  # triggered, acknowledged or resolved
    by: str | None  # who: the agent's name; None when PagerDuty's automation did it
    at: datetime


@dataclass(frozen=True)
class Lane:
    """Where a condition went on one connector, and how that stands."""

    connector: str
    # sent, queued, retrying, failed, held by suppression #N, held by storm #N, or resolved
    # in PagerDuty by hand (found by reconcile while it still fires here)
    state: str
    severity: str | None  # what it was paged (or held) at
    resolved_in_pagerduty_at: datetime | None = None
    storm_id: int | None = None  # the storm holding it back
    pagerduty: PagerDutySide | None = None  # None: no webhook said anything of it yet


@dataclass(frozen=True)
class IncidentView:
    dedup_key: str
    project: str
    kind: str
    rule: str | None  # the most severe rule that fired; None while pending
    severity: str | None
    state: str  # firing, not paged or pending
    since: datetime
    pages_at: datetime | None  # pending: when its threshold passes
    summary: str
    lanes: list[Lane]
    not_paged: str | None = None  # not paged: why, as recorded with the event that started it
    storm_id: int | None = None  # a storm's umbrella (kind storm): that storm

    @property
    def paged(self) -> bool:
        """Whether a connector took its page (sent, on its way, or held)."""
        return bool(self.lanes)


@dataclass(frozen=True)
class Resolved:
    incident: IncidentView
    resolves: int  # resolves queued: one per connector its trigger reached
    event_id: str  # the event recording who resolved it


def list_incidents(
    connection: Connection,
    *,
    show: Filter = Filter.FIRING,
    connector: str | None = None,
    project: str | None = None,
    rule: str | None = None,
    after: str | None = None,
    limit: int = 100,
    now: datetime,
) -> list[IncidentView]:
    """Conditions, and the umbrellas of open storms (kind storm), in dedup-key order, `limit`
    after the key `after`."""
    query = select(conditions).order_by(conditions.c.key).limit(limit)
    if show is Filter.FIRING:
        query = query.where(conditions.c.severity.is_not(None))
    elif show is Filter.PENDING:
        query = query.where(conditions.c.severity.is_(None), conditions.c.due_at.is_not(None))
    elif show is Filter.HELD:
        held = select(incidents.c.dedup_key).where(incidents.c.held.is_(True))
        query = query.where(conditions.c.key.in_(held))
    if connector is not None:
        lanes = select(incidents.c.dedup_key).join(
            connectors, connectors.c.id == incidents.c.connector_id
        )
        query = query.where(conditions.c.key.in_(lanes.where(connectors.c.name == connector)))
    if project is not None:
        query = query.where(conditions.c.project_slug == project)
    if rule is not None:
        query = query.where(conditions.c.rule == rule)
    if after is not None:
        query = query.where(conditions.c.key > after)
    found = [policy_state.condition(row._mapping) for row in connection.execute(query)]
    views = _views(connection, found, now)
    if show in (Filter.FIRING, Filter.ALL) and project is None and rule is None:
        views += _umbrellas(connection, connector=connector, after=after, limit=limit)
    return sorted(views, key=lambda view: view.dedup_key)[:limit]


def _umbrellas(
    connection: Connection, *, connector: str | None, after: str | None, limit: int
) -> list[IncidentView]:
    """Each open storm's umbrella: the one incident PagerDuty has for the storm's members
    (they are held, each listed with its storm)."""
    query = select(storms).where(storms.c.ended_at.is_(None)).order_by(storms.c.dedup_key)
    if connector is not None:
        query = query.where(storms.c.connector_name == connector)
    if after is not None:
        query = query.where(storms.c.dedup_key > after)
    found = connection.execute(query.limit(limit)).all()
    if not found:
        return []
    sent = {
        (row.connector_name, row.dedup_key): row.status
        for row in connection.execute(
            select(outbox.c.connector_name, outbox.c.dedup_key, outbox.c.status)
            .where(
                outbox.c.dedup_key.in_([storm.dedup_key for storm in found]),
                outbox.c.action == Action.TRIGGER.value,
            )
            .order_by(outbox.c.id)
        )
    }
    return [
        IncidentView(
            dedup_key=storm.dedup_key,
            project="",
            kind=Kind.STORM.value,
            rule=None,
            severity=storm.umbrella_severity,
            state="firing",
            since=storm.started_at,
            pages_at=None,
            summary=storm.umbrella_summary or f"Storm #{storm.id} on {storm.connector_name}",
            lanes=[
                Lane(
                    storm.connector_name,
                    sent.get((storm.connector_name, storm.dedup_key), "umbrella not queued yet"),
                    storm.umbrella_severity,
                )
            ],
            storm_id=storm.id,
        )
        for storm in found
    ]


def get(connection: Connection, dedup_key: str, *, now: datetime) -> IncidentView:
    condition = policy_state.load(connection, [dedup_key], ()).conditions.get(dedup_key)
    if condition is None:
        raise UnknownIncident(dedup_key)
    return _views(connection, [condition], now)[0]


def resolve(
    connection: Connection,
    *,
    dedup_key: str,
    by: str,
    settings: Settings,
    config: Snapshot,
    now: datetime,
) -> Resolved:
    """Forget the condition and send its resolve wherever its trigger went; an event records
    who did it, and every resolve row links to that event."""
    policy_state.lock_keys(connection, [dedup_key])
    before = policy_state.load(connection, [dedup_key], ())
    condition = before.conditions.get(dedup_key)
    if condition is None:
        raise UnknownIncident(dedup_key)
    view = _views(connection, [condition], now)[0]
    event_id = f"resolved-by-hand-{uuid4().hex}"
    connection.execute(
        insert(events).values(
            id=event_id,
            type=RESOLVED_BY_HAND,
            project_slug=condition.project_slug,
            occurred_at=now,
            received_at=now,
            data={"dedup_key": dedup_key, "by": by},
        )
    )
    policy_state.save(connection, before, State({}, before.releases))
    closing = Notification(
        Action.RESOLVE,
        dedup_key,
        condition.kind,
        condition.rule,
        condition.severity or Severity.INFO,  # a pending condition: no lane to resolve
        f"resolved by hand by {by}",
        condition.project_slug,
        now,
        condition.details,
        event_id=event_id,
        event_type=RESOLVED_BY_HAND,
    )
    queued = enqueue(connection, [closing], settings=settings, now=now, config=config).queued
    return Resolved(view, queued, event_id)


def _views(connection: Connection, found: list[Condition], now: datetime) -> list[IncidentView]:
    lanes_of = _lanes(connection, [c.key for c in found])
    unpaged = [c for c in found if c.severity is not None and c.key not in lanes_of]
    why = _why_not_paged(connection, unpaged)
    return [_view(c, lanes_of.get(c.key, []), now, why.get(c.key, NOBODY)) for c in found]


NOBODY = "no connector took its page"


def _why_not_paged(connection: Connection, unpaged: list[Condition]) -> dict[str, str]:
    """Why no connector took these conditions' pages, by dedup key: each connector's
    decision as the event that started the condition recorded it."""
    started = {c.started_by: c.key for c in unpaged if c.started_by}
    if not started:
        return {}
    why = {}
    found = connection.execute(
        select(events.c.id, events.c.decisions).where(events.c.id.in_(started))
    )
    for row in found:
        key = started[row.id]
        left_out = [
            d["reason"]
            for d in row.decisions or ()
            if d["dedup_key"] == key and d["outcome"] == LEFT_OUT
        ]
        why[key] = "; ".join(dict.fromkeys(left_out)) or NOBODY
    return why


def _view(condition: Condition, lanes: list[Lane], now: datetime, why: str) -> IncidentView:
    firing = condition.severity is not None
    return IncidentView(
        dedup_key=condition.key,
        project=condition.project_slug,
        kind=condition.kind.value,
        rule=None if condition.rule is None else condition.rule.value,
        severity=None if condition.severity is None else condition.severity.value,
        state="pending" if not firing else "firing" if lanes else "not paged",
        since=condition.since,
        pages_at=None if firing else condition.due_at,
        summary=engine.summary(condition, now),
        lanes=lanes,
        not_paged=why if firing and not lanes else None,
    )


def _lanes(connection: Connection, keys: list[str]) -> dict[str, list[Lane]]:
    """Each key's lanes, with how the newest trigger each was given stands."""
    if not keys:
        return {}
    rows = connection.execute(
        select(incidents, connectors.c.name)
        .join(connectors, connectors.c.id == incidents.c.connector_id)
        .where(incidents.c.dedup_key.in_(keys))
        .order_by(incidents.c.dedup_key, connectors.c.name)
    ).all()
    if not rows:
        return {}
    newest: dict[tuple[str, str], Any] = {}
    triggers = connection.execute(
        select(
            outbox.c.connector_name, outbox.c.dedup_key, outbox.c.status, outbox.c.suppression_id
        )
        .where(
            outbox.c.connector_name.in_(sorted({row.name for row in rows})),
            outbox.c.dedup_key.in_(keys),
            outbox.c.action == Action.TRIGGER.value,
        )
        .order_by(outbox.c.id)
    )
    for trigger in triggers:
        newest[(trigger.connector_name, trigger.dedup_key)] = trigger
    lanes: dict[str, list[Lane]] = {}
    for row in rows:
        state = _state(row, newest.get((row.name, row.dedup_key)))
        storm_id = row.storm_id if row.held else None
        lanes.setdefault(row.dedup_key, []).append(
            Lane(row.name, state, row.severity, row.resolved_in_pagerduty_at, storm_id, _side(row))
        )
    return lanes


def _side(lane: Any) -> PagerDutySide | None:
    if lane.pagerduty_status is None:
        return None
    return PagerDutySide(lane.pagerduty_status, lane.pagerduty_by, lane.pagerduty_at)


def _state(lane: Any, trigger: Any) -> str:
    if lane.held and lane.storm_id is not None:
        return f"held by storm #{lane.storm_id}"
    if lane.held:
        window = trigger.suppression_id if trigger is not None else None
        return f"held by suppression #{window}" if window else "held"
    status = None if trigger is None else trigger.status
    if status in PENDING or status == Status.FAILED.value:
        return str(status)
    if lane.resolved_in_pagerduty_at is not None:
        return RESOLVED_IN_PAGERDUTY
    return "sent"

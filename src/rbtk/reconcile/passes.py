"""One reconcile pass of one connector: read what PagerDuty has open, compare it with rbtk's
lanes (rbtk.reconcile.drift), act, and keep a summary.

Acting goes through the outbox like any page, in one transaction with the summary:
- a resolve lost on the way (dropped by a PagerDuty-side maintenance window, a restart, a
  key rotated mid-incident) is queued again with the key that triggered it;
- a lane resolved by hand in PagerDuty while still firing here is marked so (the incidents
  page says it), or paged again when the connector opts in;
- an open `rbtk:` incident rbtk has no record of is listed for the operator, who may
  resolve it with one click (`resolve_unknown`).

Reading PagerDuty happens before the transaction: no lock is held while it answers.
"""

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update
from sqlalchemy import insert as sql_insert

from rbtk.admin.connectors import UnknownConnector
from rbtk.channels.pagerduty_body import resolve_body
from rbtk.context import Context
from rbtk.outbox import rows
from rbtk.outbox.pipeline.lanes import PLACEHOLDER_KEY, load_lanes, save_lanes
from rbtk.outbox.pipeline.stages import REPAGE_STAGES, Paging, Send, page_rows, through
from rbtk.outbox.rows import OutboxRow
from rbtk.outbox.status import PagerDutyAction, Status
from rbtk.policy import engine
from rbtk.reconcile.drift import Drift, LastRow, OpenLane, compare
from rbtk.reconcile.rest import RemoteIncident, Rest, RestError
from rbtk.reconcile.summary import Summary, Unknown, latest
from rbtk.runtime.errors import Invalid, NotFound
from rbtk.store import policy_state
from rbtk.store.tables import connectors, incidents, outbox, reconcile_runs

log = logging.getLogger(__name__)

_CHUNK = 500
_ACTIONS = (PagerDutyAction.TRIGGER.value, PagerDutyAction.RESOLVE.value)


class NotConfigured(Invalid):
    pass


class UnknownIncident(NotFound):
    pass


@dataclass(frozen=True)
class _Connector:
    id: int
    name: str
    region: str
    service_id: str | None  # both set, unless read for what needs neither
    rest_key: bytes | None
    routing_key: bytes
    key_fingerprint: str
    repage: bool


def reconcile(context: Context, *, connector: str, dry_run: bool = False) -> Summary:
    """Run one pass now (blocking: call it from a thread). NotConfigured without a REST API
    key and service id; a PagerDuty that cannot be read is the summary's `error`."""
    settings = context.settings
    with context.reads.connect() as connection:
        target = _connector(connection, connector)
    assert target.rest_key is not None and target.service_id is not None
    started = datetime.now(UTC)
    try:
        with Rest.of(
            context.settings, context.vault, region=target.region, token=target.rest_key
        ) as rest:
            remote = rest.open_incidents(target.service_id)
    except RestError as error:
        log.warning("reconcile of %s could not read PagerDuty: %s", target.name, error)
        with context.engine.begin() as connection:
            return _record(
                connection,
                Summary(0, target.name, started, datetime.now(UTC), dry_run, error=str(error)),
                target,
            )
    settled_before = started - timedelta(seconds=settings.reconcile_grace_s)
    with context.engine.begin() as connection:
        lanes = _open_lanes(connection, target.id)
        remote_keys = {key for incident in remote for key in incident.keys}
        last = _last_rows(connection, target.name, set(lanes) | remote_keys)
        drift = compare(remote, lanes, last, settled_before=settled_before)
        now = datetime.now(UTC)
        summary = _act(connection, context, target, drift, last, dry_run=dry_run, now=now)
        summary = replace(summary, started_at=started, finished_at=datetime.now(UTC))
        summary = _record(connection, summary, target)
    if summary.fixed and not dry_run:
        context.wake_delivery()
    return summary


def resolve_unknown(context: Context, *, connector: str, dedup_key: str) -> int:
    """Resolve an incident the latest pass listed as unknown, with the connector's key
    ("one click"); answer the delivery id. Only keys that pass listed may be resolved."""
    now = datetime.now(UTC)
    with context.engine.begin() as connection:
        target = _connector(connection, connector, require_rest=False)
        runs = latest(connection, connector, limit=1)
        listed = runs[0].unknown if runs else []
        match = next((u for u in listed if u.dedup_key == dedup_key), None)
        if match is None:
            raise UnknownIncident(
                f"the last reconcile of {connector} listed no unknown incident with dedup key "
                f"{dedup_key!r}: run reconcile again"
            )
        row = _resolve_row(
            target, dedup_key, endpoint=context.settings.pagerduty_endpoint(target.region), now=now
        )
        delivery_id = rows.insert_one(connection, row)
        marked = [replace(u, resolve_queued=True) if u is match else u for u in listed]
        connection.execute(
            update(reconcile_runs)
            .where(reconcile_runs.c.id == runs[0].id)
            .values(details={**runs[0].details(), "unknown": [u.to_json() for u in marked]})
        )
    context.wake_delivery()
    return delivery_id


def _connector_row(connection: Connection, where: Any) -> Any:
    return connection.execute(select(connectors).where(where)).first()


def _connector(connection: Connection, name: str, *, require_rest: bool = True) -> _Connector:
    row = _connector_row(connection, connectors.c.name == name)
    if row is None:
        raise UnknownConnector(name)
    if require_rest and (row.rest_key is None or not row.service_id):
        missing = " and ".join(
            what
            for what, value in (("a REST API key", row.rest_key), ("a service id", row.service_id))
            if not value
        )
        raise NotConfigured(
            f"connector {name!r} needs {missing}: reconcile reads the service's open "
            "incidents through PagerDuty's REST API (set them with `rbtk admin pd connectors "
            f"update {name} --rest-key … --service-id PXXXXXX`, or on the connector's page)"
        )
    return _target(row)


def _target(row: Any) -> _Connector:
    return _Connector(
        id=row.id,
        name=row.name,
        region=row.region,
        service_id=row.service_id,
        rest_key=row.rest_key,
        routing_key=row.routing_key,
        key_fingerprint=row.key_fingerprint,
        repage=row.repage_resolved_by_hand,
    )


def _open_lanes(connection: Connection, connector_id: int) -> dict[str, OpenLane]:
    """The lanes PagerDuty was told of (a trigger sent, not held) and are still open."""
    found = connection.execute(
        select(incidents.c.dedup_key, incidents.c.resolved_in_pagerduty_at).where(
            incidents.c.connector_id == connector_id,
            incidents.c.announced.is_(True),
            incidents.c.held.is_(False),
        )
    )
    return {
        row.dedup_key: OpenLane(row.dedup_key, row.resolved_in_pagerduty_at is not None)
        for row in found
    }


def _last_rows(connection: Connection, connector: str, keys: set[str]) -> dict[str, LastRow]:
    """The newest trigger or resolve of each key (ix_outbox_lane), a few hundred keys a read."""
    ordered, found = sorted(keys), {}
    for start in range(0, len(ordered), _CHUNK):
        newest = (
            select(func.max(outbox.c.id).label("id"))
            .where(
                outbox.c.connector_name == connector,
                outbox.c.dedup_key.in_(ordered[start : start + _CHUNK]),
                outbox.c.action.in_(_ACTIONS),
            )
            .group_by(outbox.c.dedup_key)
            .subquery()
        )
        for row in connection.execute(
            select(
                outbox.c.id,
                outbox.c.dedup_key,
                outbox.c.action,
                outbox.c.status,
                outbox.c.last_attempt_at,
            ).join(newest, outbox.c.id == newest.c.id)
        ):
            found[row.dedup_key] = LastRow(row.id, row.action, row.status, row.last_attempt_at)
    return found


def _act(
    connection: Connection,
    context: Context,
    target: _Connector,
    drift: Drift,
    last: dict[str, LastRow],
    *,
    dry_run: bool,
    now: datetime,
) -> Summary:
    by_hand, repaged = ([], drift.by_hand) if target.repage else (drift.by_hand, [])
    summary = Summary(
        id=0,
        connector=target.name,
        started_at=now,
        finished_at=now,
        dry_run=dry_run,
        checked=drift.listed,
        resent=drift.resend,
        repaged=repaged,
        by_hand=by_hand,
        unknown=[_unknown(incident) for incident in drift.unknown],
    )
    if dry_run:
        return summary
    models = _rows_by_id(connection, [last[key].id for key in drift.resend])
    resends = [_again_resolve(models[last[key].id], now) for key in drift.resend]
    rows.insert_rows(connection, resends)
    _settle_by_hand(connection, context, target, drift.by_hand, now)
    _mark(connection, target.id, drift.unmark, None)
    return summary


def resolved_by_hand(
    connection: Connection, context: Context, *, connector_id: int, keys: list[str], now: datetime
) -> list[str]:
    """PagerDuty says (a webhook) these lanes were resolved there while still open here:
    settle them as a pass does, but only those whose last word from rbtk was a trigger
    PagerDuty accepted (a resolve of rbtk's own on its way closes the lane anyway). Answers
    the keys paged again."""
    target = _target(_connector_row(connection, connectors.c.id == connector_id))
    last = _last_rows(connection, target.name, set(keys))
    settled = [
        key
        for key in keys
        if (row := last.get(key)) is not None
        and row.action == PagerDutyAction.TRIGGER.value
        and row.status == Status.SENT.value
    ]
    _settle_by_hand(connection, context, target, settled, now)
    return settled if target.repage else []


def reopened(connection: Connection, *, connector_id: int, keys: list[str]) -> None:
    """Open in PagerDuty again: no longer marked resolved there by hand."""
    _mark(connection, connector_id, keys, None)


def _settle_by_hand(
    connection: Connection, context: Context, target: _Connector, keys: list[str], now: datetime
) -> None:
    """Lanes resolved by hand in PagerDuty while still firing here: paged again when the
    connector opts in, else marked so (the incidents page says it)."""
    if target.repage:
        rows.insert_rows(connection, _page_again(connection, context, target.id, keys, now))
    else:
        _mark(connection, target.id, keys, now)


def _unknown(incident: RemoteIncident) -> Unknown:
    key = min(k for k in incident.keys if k.startswith("rbtk:"))
    return Unknown(incident.id, incident.number, key, incident.title, incident.html_url)


def _rows_by_id(connection: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        for row in connection.execute(
            select(outbox).where(outbox.c.id.in_(ids[start : start + _CHUNK]))
        ):
            found[row.id] = dict(row._mapping)
    return found


def _again_resolve(model: dict[str, Any], now: datetime) -> OutboxRow:
    """The lane's resolve once more, to where and with the key its last row went."""
    body = resolve_body(model["dedup_key"], PLACEHOLDER_KEY)
    return rows.again(model, action=PagerDutyAction.RESOLVE.value, body=body, now=now)


def _page_again(
    connection: Connection, context: Context, connector_id: int, keys: list[str], now: datetime
) -> list[OutboxRow]:
    """Page again, through the pipeline's `REPAGE_STAGES`, what was resolved by hand while
    still firing: at the severity its lane was paged at, saying how things are now, and
    held back while a suppression window covers the connector (sent when it ends)."""
    config = context.snapshots.read(connection)
    target = next((t for t in config.targets if t.id == connector_id), None)
    if target is None or not keys:
        return []
    lanes = {
        lane_id: lane
        for lane_id, lane in load_lanes(connection, keys).items()
        if lane.connector_id == connector_id
    }
    firing = policy_state.load(connection, keys, ()).conditions
    sends = []
    for key in keys:
        condition, lane = firing.get(key), lanes.get((connector_id, key))
        if condition is None or condition.severity is None or lane is None:
            continue  # cleared since: nothing to page
        severity = lane.severity or condition.severity
        notification = engine.page(condition, now, event_id=condition.started_by)
        sends.append(Send(replace(notification, severity=severity), target, severity))
    paging = Paging([target], [], config.open_windows(now), dict(lanes), now,
                  runbooks=config.runbooks)  # fmt: skip
    built = page_rows(through(sends, paging, REPAGE_STAGES), paging, context.settings)
    save_lanes(connection, lanes, paging.lanes)
    return built


def _resolve_row(target: _Connector, dedup_key: str, *, endpoint: str, now: datetime) -> OutboxRow:
    model = {
        "connector_id": target.id,
        "connector_name": target.name,
        "destination": target.routing_key,
        "key_fingerprint": target.key_fingerprint,
        "endpoint": endpoint,
        "event_type": None,
        "project_slug": None,
        "dedup_key": dedup_key,
        "severity": "info",
    }
    body = resolve_body(dedup_key, PLACEHOLDER_KEY)
    return rows.again(model, action=PagerDutyAction.RESOLVE.value, body=body, now=now)


def _mark(connection: Connection, connector_id: int, keys: list[str], at: datetime | None) -> None:
    """Mark lanes found resolved by hand (since when: a mark already there stays), or, with
    `at` None, unmark them."""
    if keys:
        where = [
            incidents.c.connector_id == connector_id,
            incidents.c.dedup_key == bindparam("key"),
        ]
        if at is not None:
            where.append(incidents.c.resolved_in_pagerduty_at.is_(None))
        connection.execute(
            update(incidents).where(and_(*where)).values(resolved_in_pagerduty_at=at),
            [{"key": key} for key in keys],
        )


def _record(connection: Connection, summary: Summary, target: _Connector) -> Summary:
    result = connection.execute(
        sql_insert(reconcile_runs)
        .values(
            connector_id=target.id,
            connector_name=target.name,
            started_at=summary.started_at,
            finished_at=summary.finished_at,
            dry_run=summary.dry_run,
            found=summary.found,
            fixed=summary.fixed,
            left=summary.left,
            error=summary.error,
            details=summary.details(),
        )
        .returning(reconcile_runs.c.id)
    )
    return replace(summary, id=int(result.scalar_one()))

"""A storm's umbrella incident, tended by the scheduler (`rbtk.outbox.pipeline.storm_gate`
opens storms).

The umbrella is queued as soon as its storm opens, at the highest severity among the members
still firing, with a summary that counts them ("Storm: 4,812 runner pools offline across 37
projects (312 air-gapped)"), their counts by rule and project and the first of them in its
details, and a link to the page listing them all. It is updated (same dedup key) when that
changes: 5 s after it opened (`RBTK_STORM_FIRST_UPDATE_S`), so a storm that clears within
the minute still tells PagerDuty its size, then at most once a minute (`RBTK_STORM_UPDATE_S`),
through the rate budget like any trigger; not while a suppression window covers the connector.

A storm ends when fewer than its threshold of members have been firing for a whole storm
window, or when its connector switches collapse off: the members still firing are paged one
by one (`rbtk.outbox.fanout.release`) and the umbrella resolves. PagerDuty shows no
resolve's summary, so when the storm grew past what the umbrella last told (an update was not
due yet), a last trigger update with the summary at its peak (`peak_summary`) goes just
before the resolve: the incident PagerDuty keeps says how large the storm was. While a
suppression window covers the connector, it ends only once the window has.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from rbtk.channels.pagerduty_body import resolve_body, trigger_body
from rbtk.outbox.fanout.release import release_storm
from rbtk.outbox.pipeline.coalesce import coalesce
from rbtk.outbox.pipeline.lanes import PLACEHOLDER_KEY, Lane, lane_page
from rbtk.outbox.rows import OutboxRow, insert_rows
from rbtk.outbox.status import PENDING, Status
from rbtk.policy.rules import Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Kind, Notification
from rbtk.routing.pagerduty import Target
from rbtk.routing.snapshot import Snapshot
from rbtk.routing.storms import StormRule
from rbtk.routing.suppression import Window, covering
from rbtk.runtime.settings import Settings
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.db import is_postgres
from rbtk.store.tables import conditions, incidents, outbox, storms

FIRST_MEMBERS = 10
TOP_PROJECTS = 20
STORMS_PAGE = "/settings/integrations/pagerduty/storms"

# How a summary names the members of each rule: (singular, plural, what happened).
_NOUNS: dict[Rule, tuple[str, str, str]] = {
    Rule.EVIDENCE_PACK_FAILED: ("evidence pack", "evidence packs", "failed on a release"),
    Rule.POST_RELEASE_REGRESSION: ("test", "tests", "failing after a release"),
    Rule.STANDARD_AMENDMENT: ("standard amendment", "standard amendments", "published"),
}
_POOL_RULES = (Rule.AIRGAPPED_POOL_OFFLINE, Rule.POOL_OFFLINE)


@dataclass(frozen=True)
class Census:
    """A storm's members still firing."""

    firing: int
    severity: Severity | None  # the highest among them
    by_rule: dict[str, int]
    by_project: list[tuple[str, int]]  # most first
    first: list[dict[str, Any]]  # the first to have joined


def tend(connection: Connection, *, settings: Settings, config: Snapshot, now: datetime) -> int:
    """Look at every open storm that is due; answer how many triggers were queued."""
    query = (
        select(storms)
        .where(storms.c.ended_at.is_(None), storms.c.check_at <= now)
        .order_by(storms.c.id)
    )
    if is_postgres(connection):
        query = query.with_for_update(skip_locked=True)  # one instance tends each storm
    targets = {t.id: t for t in config.targets}
    windows = config.open_windows(now)
    queued = 0
    for row in connection.execute(query).all():
        target = targets.get(row.connector_id) if row.connector_id is not None else None
        queued += _tend(
            connection, dict(row._mapping), target, windows, settings, now, config.runbooks
        )
    return queued


def next_check(connection: Connection) -> datetime | None:
    """When the scheduler must next look at an open storm."""
    return connection.execute(
        select(func.min(storms.c.check_at)).where(storms.c.ended_at.is_(None))
    ).scalar()


def census(connection: Connection, storm_id: int) -> Census:
    member = (incidents.c.storm_id == storm_id, incidents.c.held.is_(True))
    joined = incidents.join(conditions, conditions.c.key == incidents.c.dedup_key)
    rules = connection.execute(
        select(conditions.c.rule, func.count()).select_from(joined).where(*member)
        .group_by(conditions.c.rule)
    ).all()  # fmt: skip
    projects = connection.execute(
        select(conditions.c.project_slug, func.count().label("n")).select_from(joined)
        .where(*member).group_by(conditions.c.project_slug)
        .order_by(func.count().desc(), conditions.c.project_slug)
    ).all()  # fmt: skip
    severities = connection.execute(
        select(incidents.c.severity).where(*member).group_by(incidents.c.severity)
    ).scalars()
    first = connection.execute(
        select(incidents.c.dedup_key, conditions.c.project_slug, conditions.c.rule,
               incidents.c.severity)
        .select_from(joined).where(*member)
        .order_by(incidents.c.opened_at, incidents.c.dedup_key).limit(FIRST_MEMBERS)
    ).all()  # fmt: skip
    levels = [Severity(s) for s in severities if s is not None]
    return Census(
        firing=sum(n for _, n in rules),
        severity=max(levels) if levels else None,
        by_rule={str(rule): n for rule, n in rules},
        by_project=[(project, n) for project, n in projects],
        first=[
            {"dedup_key": key, "project_slug": project, "rule": rule, "severity": severity}
            for key, project, rule, severity in first
        ],
    )


def summarize(found: Census) -> str:
    """ "Storm: 4,812 runner pools offline across 37 projects (312 air-gapped)"."""
    counts = found.by_rule
    parts = []
    pools = sum(counts.get(rule.value, 0) for rule in _POOL_RULES)
    if pools:
        parts.append(f"{_count(pools, 'runner pool', 'runner pools')} offline")
    for rule, (one, many, happened) in _NOUNS.items():
        if counts.get(rule.value):
            parts.append(f"{_count(counts[rule.value], one, many)} {happened}")
    known = pools + sum(counts.get(rule.value, 0) for rule in _NOUNS)
    if found.firing > known:
        parts.append(_count(found.firing - known, "other incident", "other incidents"))
    projects = found.by_project
    where = (
        f" in {projects[0][0]}"
        if len(projects) == 1
        else f" across {_count(len(projects), 'project', 'projects')}"
    )
    airgapped = counts.get(Rule.AIRGAPPED_POOL_OFFLINE.value, 0)
    note = f" ({airgapped:,} air-gapped)" if airgapped else ""
    return f"Storm: {', '.join(parts)}{where}{note}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _tend(
    connection: Connection,
    storm: dict[str, Any],
    target: Target | None,
    windows: list[Window],
    settings: Settings,
    now: datetime,
    runbooks: Mapping[Rule, str],
) -> int:
    found = census(connection, storm["id"])
    rule = target.storm if target is not None else None
    quiet_since = storm["quiet_since"]
    if rule is not None and found.firing >= rule.threshold:
        quiet_since = None
    elif quiet_since is None:
        quiet_since = now
    # While a window covers the connector, the storm waits for it to end: the members still
    # firing then are the window's to page.
    covered = target is not None and covering(windows, target.id, now) is not None
    check_at = now + timedelta(seconds=settings.storm_check_s)
    if rule is not None and quiet_since is not None and not covered:
        check_at = min(check_at, quiet_since + rule.window)  # ends on time when quiet
    values: dict[str, Any] = {
        "check_at": check_at,
        "peak": max(storm["peak"], found.firing),
        "quiet_since": quiet_since,
    }
    if found.firing > storm["peak"]:
        values["peak_summary"] = storm["peak_summary"] = summarize(found)
    lane = _umbrella_lane(connection, storm)
    quiet = rule is None or (quiet_since is not None and now - quiet_since >= rule.window)
    built: list[OutboxRow] = []
    ended: Lane | None = None  # the umbrella resolved now
    released = 0
    if quiet and not covered:
        if target is not None:  # else removed, and its lanes with it
            released = release_storm(
                connection,
                storm_id=storm["id"],
                target=target,
                settings=settings,
                runbooks=runbooks,
                now=now,
            )
        if lane is not None:
            ended = lane
            built.append(_resolve(storm, lane, settings, now))
            _close_lane(connection, lane)
        values |= {"ended_at": now, "released": released}
    elif target is not None and rule is not None and found.severity is not None and not covered:
        update_row, values_now = _update(
            connection, storm, lane, target, rule, found, settings, now
        )
        if update_row is not None:
            built.append(update_row)
            values |= values_now
    stored = {lane.id} if lane is not None else set()
    built = coalesce(connection, built, open_lanes=stored, now=now)
    if ended is not None and built[-1].status == Status.QUEUED.value:
        # Only with a resolve that goes out (coalescing keeps it when PagerDuty holds the
        # umbrella open): ahead of it in the lane, so it is sent first.
        built[:0] = _final(connection, storm, ended, found, rule, settings, now)
    insert_rows(connection, built)
    connection.execute(update(storms).where(storms.c.id == storm["id"]).values(**values))
    return released + sum(row.status == Status.QUEUED.value for row in built)


def _update(
    connection: Connection,
    storm: dict[str, Any],
    lane: Lane | None,
    target: Target,
    rule: StormRule,
    found: Census,
    settings: Settings,
    now: datetime,
) -> tuple[OutboxRow | None, dict[str, Any]]:
    """The umbrella's trigger, when its summary or severity changed and it was not sent too
    recently (5 s after the one that opened it, then a minute); with what the storm then
    records of it."""
    assert found.severity is not None
    summary = summarize(found)
    changed = (summary, found.severity.value) != (
        storm["umbrella_summary"],
        storm["umbrella_severity"],
    )
    last = storm["umbrella_at"]
    first = timedelta(seconds=settings.storm_first_update_s)
    # The umbrella that opened the storm counted what its transaction held; the storm's size
    # is known a moment later, so the first update goes sooner than the rest.
    opening = last is not None and last - storm["started_at"] < first
    every = first if opening else timedelta(seconds=settings.storm_update_s)
    due = last is None or now - last >= every
    if not (changed and due):
        return None, {}
    lane = _open_lane(connection, storm, target, found.severity, lane, now)
    row = _trigger(storm, lane, found, summary, found.severity, rule, settings, now)
    sent = {"umbrella_at": now, "umbrella_summary": summary, "umbrella_severity": found.severity}
    return row, sent


def _umbrella_lane(connection: Connection, storm: dict[str, Any]) -> Lane | None:
    row = connection.execute(
        select(incidents).where(
            incidents.c.connector_id == storm["connector_id"],
            incidents.c.dedup_key == storm["dedup_key"],
        )
    ).first()
    return None if row is None else Lane.stored(row)


def _open_lane(
    connection: Connection,
    storm: dict[str, Any],
    target: Target,
    severity: Severity,
    lane: Lane | None,
    now: datetime,
) -> Lane:
    """The umbrella's incident, kept like any lane's so its resolve reaches it with the key
    that triggered it; never counted as a new incident (`triggered_at` stays None)."""
    if lane is None:
        lane = replace(Lane.new(target, storm["dedup_key"], now), announced=True)
        connection.execute(insert(incidents).values(**replace(lane, severity=severity).values()))
    else:
        connection.execute(
            update(incidents)
            .where(
                incidents.c.connector_id == lane.connector_id,
                incidents.c.dedup_key == lane.dedup_key,
            )
            .values(severity=severity.value)
        )
    return replace(lane, severity=severity)


def _final(
    connection: Connection,
    storm: dict[str, Any],
    lane: Lane,
    found: Census,
    rule: StormRule | None,
    settings: Settings,
    now: datetime,
) -> list[OutboxRow]:
    """The umbrella's last trigger, when the storm at its peak is not what PagerDuty was last
    told (an update coalesced away by the resolve was never told): PagerDuty keeps it as the
    incident's last word once the resolve closes it."""
    peak = storm["peak_summary"]
    if rule is None or peak is None or peak == _last_told(connection, storm):
        return []
    severity = lane.severity or Severity.CRITICAL
    return [_trigger(storm, lane, found, peak, severity, rule, settings, now)]


def _last_told(connection: Connection, storm: dict[str, Any]) -> str | None:
    """The summary of the umbrella's newest trigger sent or still to be sent."""
    return connection.execute(
        select(outbox.c.body["payload"]["summary"].as_string())
        .where(
            outbox.c.connector_name == storm["connector_name"],
            outbox.c.dedup_key == storm["dedup_key"],
            outbox.c.action == Action.TRIGGER.value,
            outbox.c.status.in_((Status.SENT.value, *PENDING)),
        )
        .order_by(outbox.c.id.desc())
        .limit(1)
    ).scalar()


def _trigger(
    storm: dict[str, Any],
    lane: Lane,
    found: Census,
    summary: str,
    severity: Severity,
    rule: StormRule,
    settings: Settings,
    now: datetime,
) -> OutboxRow:
    details = {
        "connector": storm["connector_name"],
        "storm": storm["id"],
        "started_at": format_rfc3339(storm["started_at"]),
        "firing": found.firing,
        "peak": max(storm["peak"], found.firing),
        "by_rule": found.by_rule,
        "projects": len(found.by_project),
        "by_project": dict(found.by_project[:TOP_PROJECTS]),
        "first_members": found.first,
        "threshold": rule.threshold,
        "window_s": int(rule.window.total_seconds()),
        "members_page": f"{settings.public_url.rstrip('/')}{STORMS_PAGE}/{storm['id']}",
    }
    notification = Notification(
        Action.TRIGGER,
        storm["dedup_key"],
        Kind.STORM,
        None,
        severity,
        summary,
        "",
        now,
        details,
    )
    body = trigger_body(notification, PLACEHOLDER_KEY, base_url=settings.base_url)
    return lane_page(notification, storm["connector_name"], lane, body, settings, now)


def _resolve(storm: dict[str, Any], lane: Lane, settings: Settings, now: datetime) -> OutboxRow:
    severity = lane.severity or Severity.CRITICAL
    notification = Notification(
        Action.RESOLVE, storm["dedup_key"], Kind.STORM, None, severity, "", "", now, {}
    )
    body = resolve_body(storm["dedup_key"], PLACEHOLDER_KEY)
    return lane_page(notification, storm["connector_name"], lane, body, settings, now)


def _close_lane(connection: Connection, lane: Lane) -> None:
    connection.execute(
        delete(incidents).where(
            incidents.c.connector_id == lane.connector_id,
            incidents.c.dedup_key == lane.dedup_key,
        )
    )

"""Lanes: each connector's incident for one dedup key, as the `incidents` table keeps it.

A lane says what its connector was sent (the routing key that opened it, which its resolve
must use, and the severity) and what holds it back (a suppression window, a storm). The
stages (`rbtk.outbox.pipeline.stages`) read and change lanes; fan-out loads and saves them.
"""

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, insert, select

from rbtk.outbox import rows
from rbtk.outbox.rows import OutboxRow
from rbtk.policy.severity import Severity
from rbtk.policy.state import Notification
from rbtk.routing.pagerduty import Target
from rbtk.runtime.settings import Settings
from rbtk.store.tables import incidents

PLACEHOLDER_KEY = "0" * 32  # bodies are sized with a key-long stand-in; the key is added late
_CHUNK = 500

LaneId = tuple[int, str]  # (connector id, dedup key)


@dataclass(frozen=True)
class Lane:
    """One connector's incident for one dedup key: what it was sent, and what holds it."""

    connector_id: int
    dedup_key: str
    routing_key: bytes  # encrypted: the key that opened it, which its resolve must use
    key_fingerprint: str
    region: str
    opened_at: datetime
    announced: bool = False  # a trigger was queued for PagerDuty, so a resolve must follow
    held: bool = False  # its trigger waits on a suppression window or a storm
    severity: Severity | None = None  # what it was paged (or held) at
    triggered_at: datetime | None = None  # its first trigger queued to be sent
    storm_id: int | None = None  # the storm holding its trigger
    resolved_in_pagerduty_at: datetime | None = None  # found resolved by hand, by reconcile
    # PagerDuty's side as its webhooks last told it (rbtk.reconcile.webhooks), kept as is
    pagerduty_status: str | None = None
    pagerduty_by: str | None = None
    pagerduty_at: datetime | None = None

    @classmethod
    def new(cls, target: Target, key: str, now: datetime) -> "Lane":
        return cls(target.id, key, target.routing_key, target.key_fingerprint, target.region, now)

    @classmethod
    def stored(cls, row: Row[Any]) -> "Lane":
        values = dict(row._mapping)
        severity = values["severity"]
        return cls(**{**values, "severity": None if severity is None else Severity(severity)})

    def values(self) -> dict[str, Any]:
        values = asdict(self)
        values["severity"] = None if self.severity is None else self.severity.value
        return values

    @property
    def id(self) -> LaneId:
        return (self.connector_id, self.dedup_key)

    @property
    def new_incident(self) -> bool:
        """Neither paged nor held yet: what a storm counts."""
        return not (self.announced or self.held)


def lane_page(
    notification: Notification,
    connector_name: str,
    lane: Lane,
    body: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> OutboxRow:
    """A trigger or resolve of one lane, to where and with the key the lane holds."""
    return rows.page(
        notification,
        connector_id=lane.connector_id,
        connector_name=connector_name,
        destination=lane.routing_key,
        key_fingerprint=lane.key_fingerprint,
        body=body,
        endpoint=settings.pagerduty_endpoint(lane.region),
        now=now,
    )


def load_lanes(connection: Connection, keys: Iterable[str]) -> dict[LaneId, Lane]:
    """Every connector's lane for these dedup keys."""
    found: dict[LaneId, Lane] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        stored = connection.execute(
            select(incidents).where(incidents.c.dedup_key.in_(ordered[start : start + _CHUNK]))
        )
        for row in stored:
            lane = Lane.stored(row)
            found[lane.id] = lane
    return found


def save_lanes(
    connection: Connection, stored: Iterable[LaneId], lanes: Mapping[LaneId, Lane]
) -> None:
    """Replace what changed: delete every stored lane touched, insert what is still open."""
    touched = [{"cid": cid, "key": key} for cid, key in stored]
    if touched:
        connection.execute(
            delete(incidents).where(
                and_(
                    incidents.c.connector_id == bindparam("cid"),
                    incidents.c.dedup_key == bindparam("key"),
                )
            ),
            touched,
        )
    if lanes:
        connection.execute(insert(incidents), [lane.values() for lane in lanes.values()])

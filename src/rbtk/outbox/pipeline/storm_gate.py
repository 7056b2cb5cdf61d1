"""Storm detection: a fleet-wide burst of new incidents on one connector pages once.

When more than a connector's `threshold` new incidents would be triggered within its
`window` (default 20 in 60 s), a storm opens: the triggers past the threshold are held as
its members (the delivery log says so) and one umbrella incident pages for all of them
(`rbtk.outbox.storms.umbrella` sends, updates and ends it). Triggers sent before the storm keep
their own incidents, and a member that clears while held never reaches PagerDuty.

What counts is an incident's first trigger queued to be sent (`incidents.triggered_at`):
not a trigger held by a window, not a severity rise of an incident already paged.
"""

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, insert, select, text

from rbtk.policy import keys
from rbtk.routing.pagerduty import Target
from rbtk.routing.storms import NEW, OpenStorm
from rbtk.store.db import count_up_to, is_postgres
from rbtk.store.tables import incidents, storms

_LOCK_SPACE = 0x7262746B  # "rbtk": the advisory locks of storm opening, one per connector


class Gate:
    """Admits new incidents to be paged on their own until a connector's storm opens, for
    one transaction. Counts are read once per connector and then kept as it admits."""

    def __init__(
        self,
        connection: Connection,
        open_storms: Mapping[int, OpenStorm],
        now: datetime,
        *,
        dry: bool = False,
    ) -> None:
        self._connection = connection
        self._dry = dry  # explain: count, and say a storm would open, without opening it
        self._now = now
        self._open = dict(open_storms)
        self._storms = dict(open_storms)
        self._counts: dict[int, int] = {}
        self.opened: list[OpenStorm] = []

    def dry_at(self, now: datetime) -> "Gate":
        """A gate that only counts, at another time, over the storms this one started with."""
        return Gate(self._connection, self._open, now, dry=True)

    def storm(self, connector_id: int) -> OpenStorm | None:
        """The connector's open storm, if any."""
        return self._storms.get(connector_id)

    def admit(self, target: Target) -> OpenStorm | None:
        """The storm that holds this new incident of `target`, or None: page it on its own."""
        rule = target.storm
        if rule is None:
            return None
        storm = self._storms.get(target.id)
        if storm is not None:
            return storm
        count = self._counts.get(target.id)
        if count is None:
            count = _recent(self._connection, target.id, self._now - rule.window, rule.threshold)
        count += 1
        self._counts[target.id] = count
        if count <= rule.threshold:
            return None
        if self._dry:
            storm = OpenStorm(NEW, target.id, keys.storm(target.name, "new"), self._now)
        else:
            storm = _open(self._connection, target, self._now)
        self._storms[target.id] = storm
        self.opened.append(storm)
        return storm


def _recent(connection: Connection, connector_id: int, since: datetime, threshold: int) -> int:
    """New incidents triggered since `since`, counted no further than past the threshold."""
    query = select(incidents.c.dedup_key).where(
        incidents.c.connector_id == connector_id, incidents.c.triggered_at > since
    )
    return count_up_to(connection, query, threshold + 1)


def _open(connection: Connection, target: Target, now: datetime) -> OpenStorm:
    """Open the connector's storm, or join one opened since the snapshot was read: by another
    instance, or earlier in this transaction (a window's release after a tick's triggers)."""
    if is_postgres(connection):
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:space, :id)"),
            {"space": _LOCK_SPACE, "id": target.id},
        )
    found = connection.execute(
        select(storms.c.id, storms.c.connector_id, storms.c.dedup_key, storms.c.started_at).where(
            storms.c.connector_id == target.id, storms.c.ended_at.is_(None)
        )
    ).first()
    if found is not None:
        return OpenStorm(*found)
    key = _unused_key(connection, target.name, now)
    storm_id = connection.execute(
        insert(storms)
        .values(
            connector_id=target.id,
            connector_name=target.name,
            dedup_key=key,
            started_at=now,
            check_at=now,  # the scheduler queues the umbrella at once
        )
        .returning(storms.c.id)
    ).scalar_one()
    return OpenStorm(storm_id, target.id, key, now)


def _unused_key(connection: Connection, connector: str, now: datetime) -> str:
    """`rbtk:storm:{connector}:{start}`; a second storm started within the same second (one
    ended at once as collapse was switched off and on) gets a suffix."""
    start = now.strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1, 100):
        key = keys.storm(connector, start if attempt == 1 else f"{start}-{attempt}")
        taken = connection.execute(select(storms.c.id).where(storms.c.dedup_key == key)).first()
        if taken is None:
            return key
    raise RuntimeError(f"no unused storm key for {connector} at {start}")

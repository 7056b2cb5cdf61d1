"""What fan-out reads about storms: each connector's storm rule and its open storm.

A storm is a burst of new incidents on one connector, paged as one umbrella incident
(`rbtk.outbox.pipeline.storm_gate` opens them, `rbtk.outbox.storms.umbrella` tends and ends
them).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from rbtk.store.tables import storms


@dataclass(frozen=True)
class StormRule:
    """More than `threshold` new incidents within `window` is a storm."""

    threshold: int
    window: timedelta


NEW = 0  # the id of a storm not opened yet: one that a dry run (explain) says would open


@dataclass(frozen=True)
class OpenStorm:
    id: int
    connector_id: int
    dedup_key: str  # the umbrella incident's
    started_at: datetime

    @property
    def reason(self) -> str:
        """Why a member's trigger is not sent, as the delivery log shows it."""
        if self.id == NEW:
            return (
                "held by the storm it opens: more new incidents than the connector's storm "
                "threshold, so one umbrella incident pages for them all"
            )
        return (
            f"held by storm #{self.id}: one umbrella incident ({self.dedup_key}) pages for "
            "the storm; sent on its own if still firing when the storm ends"
        )


def load_open(connection: Connection) -> dict[int, OpenStorm]:
    """Each connector's open storm, by connector id."""
    rows = connection.execute(
        select(storms.c.id, storms.c.connector_id, storms.c.dedup_key, storms.c.started_at).where(
            storms.c.ended_at.is_(None)
        )
    )
    return {row.connector_id: OpenStorm(*row) for row in rows if row.connector_id is not None}

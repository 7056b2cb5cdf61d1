"""Verified end to end: after PagerDuty accepted a test event, rbtk reads its REST API to see
the incident open on the connector's service, and at which urgency. Only then is the
connector "verified end to end", with the time: PagerDuty's own advice is to test the
rotation end to end at least quarterly (rbtk.reconcile.reminders says when it is due).

Without a REST API key and service id there is nothing to read: the answer is None.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from rbtk.context import Context
from rbtk.reconcile.rest import RemoteIncident, Rest, RestError
from rbtk.store.tables import connectors

POLL_S = 0.25


@dataclass(frozen=True)
class Verification:
    ok: bool
    message: str
    urgency: str | None = None  # what PagerDuty gave the incident: high or low
    incident: str | None = None  # its number (or id)
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "message": self.message,
            "urgency": self.urgency,
            "incident": self.incident,
            "url": self.url,
        }


def confirm(
    context: Context, *, connector: str, dedup_key: str, wait_s: float = 10.0
) -> Verification | None:
    """Look for the test incident on the service for up to `wait_s` (PagerDuty opens it a
    moment after it answers); mark the connector verified when it is there. Blocking."""
    with context.reads.connect() as connection:
        row = connection.execute(select(connectors).where(connectors.c.name == connector)).first()
    if row is None or row.rest_key is None or not row.service_id:
        return None
    try:
        with Rest.of(
            context.settings, context.vault, region=row.region, token=row.rest_key
        ) as rest:
            found = _poll(rest, dedup_key, row.service_id, wait_s)
            if found is None:
                return _missing(rest, dedup_key, row.service_id, wait_s)
    except RestError as error:
        return Verification(False, f"PagerDuty accepted it, but rbtk could not confirm: {error}")
    now = datetime.now(UTC)
    with context.engine.begin() as connection:
        connection.execute(
            update(connectors)
            .where(connectors.c.id == row.id)
            .values(verified_at=now, verified_urgency=found.urgency)
        )
    number = str(found.number or found.id)
    return Verification(
        True,
        f"Verified end to end: incident #{number} is open on service {row.service_id} "
        f"at {found.urgency} urgency.",
        urgency=found.urgency,
        incident=number,
        url=found.html_url,
    )


def _poll(rest: Rest, key: str, service_id: str, wait_s: float) -> RemoteIncident | None:
    deadline = time.monotonic() + wait_s
    while True:
        found = rest.incident_by_key(key, service_id)
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(POLL_S)


def _missing(rest: Rest, key: str, service_id: str, wait_s: float) -> Verification:
    elsewhere = rest.incident_by_key(key)
    if elsewhere is not None and elsewhere.service_id != service_id:
        return Verification(
            False,
            f"The test incident opened on service {elsewhere.service_id}, not "
            f"{service_id}: the integration key feeds another service. Check the connector's "
            "service id, or its key.",
            urgency=elsewhere.urgency,
            incident=str(elsewhere.number or elsewhere.id),
            url=elsewhere.html_url,
        )
    return Verification(
        False,
        f"PagerDuty accepted the test event, but no incident opened on service {service_id} "
        f"within {wait_s:g} s: check that the service creates incidents and that its alert "
        "grouping is off (PagerDuty service health, on this page).",
    )

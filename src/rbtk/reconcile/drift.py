"""Where rbtk and PagerDuty disagree about one connector's incidents: pure, no I/O.

rbtk knows every dedup key it sent (the delivery log) and which of its lanes are open (the
incidents table); PagerDuty's REST API says which incidents are open on the service. Each
open `rbtk:` incident and each open lane is one of:

- agreed: both say open;
- resend: open in PagerDuty, resolved in rbtk (a lost resolve): send the resolve again;
- by hand: open in rbtk, no longer open in PagerDuty (resolved there by hand);
- unknown: open in PagerDuty with an `rbtk:` key rbtk has no record of (an old database);
- not judged yet: rbtk's last word on it is still on its way, or was answered within the
  grace PagerDuty takes to apply an event.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rbtk.outbox.status import PagerDutyAction, Status
from rbtk.policy import keys
from rbtk.reconcile.rest import RemoteIncident

PREFIX = "rbtk:"


@dataclass(frozen=True)
class LastRow:
    """The newest trigger or resolve of a lane in the delivery log."""

    id: int
    action: str
    status: str
    answered_at: datetime | None  # when PagerDuty answered it (None: not yet)


@dataclass(frozen=True)
class OpenLane:
    dedup_key: str
    marked: bool  # already found resolved in PagerDuty by hand


@dataclass
class Drift:
    listed: int = 0  # open `rbtk:` incidents PagerDuty listed
    agreed: int = 0
    resend: list[str] = field(default_factory=list)  # keys: their last row is the model
    by_hand: list[str] = field(default_factory=list)
    unmark: list[str] = field(default_factory=list)  # marked by hand, open in PagerDuty again
    unknown: list[RemoteIncident] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


def compare(
    remote: list[RemoteIncident],
    lanes: Mapping[str, OpenLane],
    last: Mapping[str, LastRow],
    *,
    settled_before: datetime,
) -> Drift:
    """`lanes`: rbtk's open lanes of the connector that PagerDuty was told of; `last`: the
    newest trigger or resolve of each key in either, when the log has one."""
    drift = Drift()
    open_remote: dict[str, RemoteIncident] = {}
    for incident in remote:
        for key in incident.keys:
            if key.startswith(PREFIX):
                open_remote[key] = incident
    drift.listed = len(open_remote)
    for key, incident in sorted(open_remote.items()):
        row = last.get(key)
        if key in lanes:
            drift.agreed += 1
            if lanes[key].marked:
                drift.unmark.append(key)
        elif row is None:
            drift.unknown.append(incident)
        elif key.startswith(keys.TEST_PREFIX):
            drift.agreed += 1  # a test incident is the operator's to resolve ("Resolve it now")
        elif not _settled(row, settled_before):
            drift.waiting.append(key)
        else:
            drift.resend.append(key)
    for key in sorted(lanes):
        if key in open_remote:
            continue
        row = last.get(key)
        if row is None or row.action != PagerDutyAction.TRIGGER.value:
            continue  # its resolve is on the way: the lane closes with it
        if not _settled(row, settled_before):
            drift.waiting.append(key)
        elif row.status == Status.SENT.value:
            drift.by_hand.append(key)
    return drift


def _settled(row: LastRow, before: datetime) -> bool:
    """Answered by PagerDuty, long enough ago that it has applied the event."""
    if row.status in (Status.QUEUED.value, Status.RETRYING.value):
        return False
    return row.answered_at is None or row.answered_at <= before

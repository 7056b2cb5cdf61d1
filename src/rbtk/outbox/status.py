"""What a delivery row does and where it stands: plain values the CLI can import without
the outbox's machinery (rbtk.outbox.rows)."""

from enum import StrEnum


class PagerDutyAction(StrEnum):
    """What a PagerDuty row does: a policy trigger or resolve, or a release's change event."""

    TRIGGER = "trigger"
    RESOLVE = "resolve"
    CHANGE = "change"


class Status(StrEnum):
    QUEUED = "queued"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


PENDING = (Status.QUEUED.value, Status.RETRYING.value)  # still to be sent
FINAL = (Status.SENT.value, Status.FAILED.value, Status.SUPPRESSED.value)

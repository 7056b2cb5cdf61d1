"""The outbox row: one notification on its way to one destination, built here and only here.

Pages (`page`) and chat messages (`chat`) become the same row type, so the queue, the
delivery log and every channel read one shape; `insert` writes a batch in one statement.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from rbtk.channels import pagerduty
from rbtk.outbox.status import PagerDutyAction, Status
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Notification
from rbtk.store.tables import outbox

CHAT_ACTION = "notify"  # the action of a chat message: neither a trigger nor a resolve
CHANGE = PagerDutyAction.CHANGE.value  # a release's change event: it never pages
CHAT_PRIORITY = 2  # pages first: a Slack message can wait for a PagerDuty trigger
FIRST = -1  # test sends: an operator pressing "send test" is waiting for the answer


def priority(action: Action, severity: Severity) -> int:
    """Under a rate budget, resolves and critical triggers go before everything else."""
    return 0 if action is Action.RESOLVE or severity is Severity.CRITICAL else 1


@dataclass(frozen=True)
class OutboxRow:
    channel: str  # a key of rbtk.channels.registry.CHANNELS
    connector_id: int | None  # PagerDuty rows: the connector; None for chat rows
    connector_name: str | None  # PagerDuty rows: the connector it pages; None for chat rows
    channel_name: str | None  # chat rows: the chat channel it posts to; None for PagerDuty rows
    destination: bytes  # encrypted: a routing key, a Slack webhook URL, a signing secret
    key_fingerprint: str  # what the rate budget counts by
    endpoint: str  # where it goes, never a secret
    event_id: str | None
    event_type: str | None
    project_slug: str | None  # None for what no one project owns (a storm's umbrella)
    dedup_key: str
    action: str
    severity: str
    priority: int
    body: dict[str, Any]  # without secrets: those are added at send time
    created_at: datetime
    next_attempt_at: datetime
    status: str = Status.QUEUED.value
    message: str | None = None  # why it is not sent, when it is not
    suppression_id: int | None = None
    storm_id: int | None = None
    digest_id: int | None = None
    attempts: int = 0

    def held(
        self,
        reason: str,
        *,
        suppression_id: int | None = None,
        storm_id: int | None = None,
        digest_id: int | None = None,
    ) -> "OutboxRow":
        """Recorded in the delivery log, never sent (on its own)."""
        return replace(
            self,
            status=Status.SUPPRESSED.value,
            message=reason,
            suppression_id=suppression_id,
            storm_id=storm_id,
            digest_id=digest_id,
        )

    def first_in_line(self, at: datetime) -> "OutboxRow":
        return replace(self, priority=FIRST, next_attempt_at=at)


def page(
    notification: Notification,
    *,
    connector_id: int | None,
    connector_name: str,
    destination: bytes,
    key_fingerprint: str,
    body: dict[str, Any],
    endpoint: str,
    now: datetime,
) -> OutboxRow:
    """A trigger or resolve for one connector's lane, sent with the key the lane holds."""
    return OutboxRow(
        channel=pagerduty.kind,
        connector_id=connector_id,
        connector_name=connector_name,
        channel_name=None,
        destination=destination,
        key_fingerprint=key_fingerprint,
        endpoint=endpoint,
        event_id=notification.event_id,
        event_type=notification.event_type,
        project_slug=notification.project_slug or None,
        dedup_key=notification.dedup_key,
        action=notification.action.value,
        severity=notification.severity.value,
        priority=priority(notification.action, notification.severity),
        body={k: v for k, v in body.items() if k != "routing_key"},
        created_at=now,
        next_attempt_at=now,
    )


def change(
    *,
    connector_id: int,
    connector_name: str,
    routing_key: bytes,
    key_fingerprint: str,
    endpoint: str,
    event_id: str,
    event_type: str,
    project: str,
    dedup_key: str,
    body: dict[str, Any],
    now: datetime,
) -> OutboxRow:
    """A change event for one connector's service, sent with the connector's key now."""
    return OutboxRow(
        channel=pagerduty.kind,
        connector_id=connector_id,
        connector_name=connector_name,
        channel_name=None,
        destination=routing_key,
        key_fingerprint=key_fingerprint,
        endpoint=endpoint,
        event_id=event_id,
        event_type=event_type,
        project_slug=project,
        dedup_key=dedup_key,
        action=CHANGE,
        severity=Severity.INFO.value,
        priority=1,
        body=body,
        created_at=now,
        next_attempt_at=now,
    )


def chat(
    *,
    kind: str,
    channel_id: int,
    channel_name: str,
    secret: bytes | None,
    endpoint: str,
    event_id: str,
    event_type: str,
    project: str | None,
    dedup_key: str,
    body: dict[str, Any],
    now: datetime,
) -> OutboxRow:
    """A message for one chat channel."""
    return OutboxRow(
        channel=kind,
        connector_id=None,
        connector_name=None,
        channel_name=channel_name,
        destination=secret or b"",
        key_fingerprint=f"{kind}:{channel_id}",
        endpoint=endpoint,
        event_id=event_id,
        event_type=event_type,
        project_slug=project,
        dedup_key=dedup_key,
        action=CHAT_ACTION,
        severity=Severity.INFO.value,
        priority=CHAT_PRIORITY,
        body=body,
        created_at=now,
        next_attempt_at=now,
    )


def insert_rows(connection: Connection, rows: list[OutboxRow]) -> None:
    """One executemany: every row carries every column."""
    if rows:
        connection.execute(insert(outbox), [_values(row) for row in rows])


def insert_one(connection: Connection, row: OutboxRow) -> int:
    """One row, and its id (the delivery-log id a test send waits on)."""
    result = connection.execute(insert(outbox).returning(outbox.c.id), [_values(row)])
    return int(result.scalar_one())


_COLUMNS = [f.name for f in fields(OutboxRow)]


def _values(row: OutboxRow) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies each body, a quarter of an ingest's time.
    return {name: getattr(row, name) for name in _COLUMNS}


def again(
    model: Mapping[str, Any], *, action: str, body: dict[str, Any], now: datetime
) -> OutboxRow:
    """A row of a lane once more, to where and with the key `model` (an earlier row of the
    lane, or the connector's own) went: reconcile's resolve sent again, or its page again."""
    return OutboxRow(
        channel=pagerduty.kind,
        connector_id=model["connector_id"],
        connector_name=model["connector_name"],
        channel_name=None,
        destination=model["destination"],
        key_fingerprint=model["key_fingerprint"],
        endpoint=model["endpoint"],
        event_id=None,
        event_type=model["event_type"],
        project_slug=model["project_slug"],
        dedup_key=model["dedup_key"],
        action=action,
        severity=model["severity"],
        priority=priority(Action(action), Severity(model["severity"])),
        body={k: v for k, v in body.items() if k != "routing_key"},
        created_at=now,
        next_attempt_at=now,
    )

"""Probes, the test sends: a test event straight to one PagerDuty connector, a test message
straight to one chat channel, each answered once the peer answered (or the wait ran out).

A probe goes through the outbox like any notification (first in line), so it is logged,
retried and rate-budgeted as real ones are; this module only waits to see what became of it.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select

from rbtk.admin.chat_channels import UnknownChannel
from rbtk.admin.connectors import UnknownConnector
from rbtk.channels.message import Message
from rbtk.context import Context
from rbtk.outbox.chat.messages import chat_row
from rbtk.outbox.fanout.notifications import enqueue_test
from rbtk.outbox.queue.record import await_answer
from rbtk.outbox.rows import insert_one
from rbtk.outbox.status import Status
from rbtk.policy import keys
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Kind, Notification
from rbtk.routing.chat import load_channels
from rbtk.routing.pagerduty import load_targets
from rbtk.runtime.errors import NotFound
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.tables import outbox


class Problem(StrEnum):
    REFUSED = "refused"  # PagerDuty answered and will not take it (a 400: bad key, say)
    PAGERDUTY_ERROR = "pagerduty_error"  # 429 or 5xx: rbtk keeps retrying it
    UNREACHABLE = "unreachable"  # no answer at all: connection refused, DNS, timeout
    TIMEOUT = "timeout"  # not attempted, or not answered, within the wait


@dataclass(frozen=True)
class ProbeOutcome:
    """What became of a test event sent to a PagerDuty connector."""

    connector: str
    dedup_key: str
    delivery_id: int
    status: str
    attempts: int
    http_status: int | None
    message: str | None
    errors: list[str] | None
    latency_ms: float | None
    endpoint: str
    resolve_delivery_id: int | None = None
    resolve_at: datetime | None = None

    @property
    def problem(self) -> Problem | None:
        if self.status == Status.SENT:
            return None
        if self.status == Status.FAILED:
            return Problem.REFUSED
        if self.attempts == 0:
            return Problem.TIMEOUT
        return Problem.PAGERDUTY_ERROR if self.http_status is not None else Problem.UNREACHABLE

    @property
    def error(self) -> str | None:
        """One line saying what went wrong and what happens next; None when it was sent."""
        problem = self.problem
        said = f": {self.message}" if self.message else ""
        if problem is None:
            return None
        if problem is Problem.REFUSED:
            hint = "; check the connector's integration key" if self.http_status == 400 else ""
            return f"PagerDuty refused the test event (HTTP {self.http_status}){said}{hint}"
        if problem is Problem.PAGERDUTY_ERROR:
            return (
                f"PagerDuty answered HTTP {self.http_status}{said}; "
                "rbtk keeps retrying the test event"
            )
        if problem is Problem.UNREACHABLE:
            return (
                f"could not reach PagerDuty at {self.endpoint}{said}; "
                "rbtk keeps retrying the test event"
            )
        return (
            "PagerDuty did not answer in time; the test event stays queued and is sent "
            "when delivery catches up (see the delivery log)"
        )


def send_test_event(
    context: Context,
    *,
    connector: str,
    resolve_after_s: float | None = None,
    severity: Severity = Severity.INFO,
    wait_s: float = 15.0,
) -> ProbeOutcome:
    """Queue a test trigger (and optionally its resolve) for `connector`; wait for the answer.
    `severity` picks the urgency PagerDuty gives it: critical tests a high-urgency page, and
    the on-call's phone, end to end.

    Blocks while it waits: call it from a worker thread, not the event loop.
    """
    now = datetime.now(UTC)
    dedup_key = keys.test_event(connector, uuid.uuid4().hex[:12])
    resolve_id: int | None = None
    resolve_at: datetime | None = None
    with context.engine.begin() as connection:
        target = next((t for t in load_targets(connection) if t.name == connector), None)
        if target is None:
            raise UnknownConnector(connector)
        trigger = _notification(connector, dedup_key, now, resolve_after_s, severity)
        trigger_id = enqueue_test(connection, trigger, target, settings=context.settings, now=now)
        if resolve_after_s is not None:
            resolve_at = now + timedelta(seconds=resolve_after_s)
            resolve = _resolve(trigger, resolve_at)
            resolve_id = enqueue_test(
                connection, resolve, target, settings=context.settings, now=now
            )
    context.wake_delivery()
    return _wait(
        context,
        trigger_id,
        wait_s,
        connector=connector,
        dedup_key=dedup_key,
        resolve_id=resolve_id,
        resolve_at=resolve_at,
    )


def resolve_test_event(
    context: Context, *, connector: str, dedup_key: str, wait_s: float = 15.0
) -> ProbeOutcome:
    """Resolve a test incident now ("Resolve it now"), through the same connector; wait for
    PagerDuty's answer. Only a key a test trigger of that connector was sent with."""
    now = datetime.now(UTC)
    with context.engine.begin() as connection:
        target = next((t for t in load_targets(connection) if t.name == connector), None)
        if target is None:
            raise UnknownConnector(connector)
        sent = connection.execute(
            select(outbox.c.severity).where(
                outbox.c.connector_name == connector,
                outbox.c.dedup_key == dedup_key,
                outbox.c.action == Action.TRIGGER.value,
            )
        ).first()
        if sent is None or not dedup_key.startswith(keys.TEST_PREFIX):
            raise UnknownTestEvent(connector, dedup_key)
        trigger = _notification(connector, dedup_key, now, None, Severity(sent.severity))
        resolve_id = enqueue_test(
            connection, _resolve(trigger, now), target, settings=context.settings, now=now
        )
    context.wake_delivery()
    return _wait(
        context,
        resolve_id,
        wait_s,
        connector=connector,
        dedup_key=dedup_key,
        resolve_id=None,
        resolve_at=None,
    )


class UnknownTestEvent(NotFound):
    def __init__(self, connector: str, dedup_key: str) -> None:
        super().__init__(f"no test event with dedup key {dedup_key!r} was sent to {connector}")


def _notification(
    connector: str,
    dedup_key: str,
    now: datetime,
    resolve_after_s: float | None,
    severity: Severity = Severity.INFO,
) -> Notification:
    resolution = (
        "Resolve it by hand in PagerDuty."
        if resolve_after_s is None
        else f"rbtk resolves it after {resolve_after_s:g} seconds."
    )
    return Notification(
        action=Action.TRIGGER,
        dedup_key=dedup_key,
        kind=Kind.TEST,
        rule=None,
        # Info would be suppressed for a real page; a test is always sent.
        severity=severity,
        summary=f"Roboticks test event from rbtk for connector {connector}",
        project_slug="rbtk",
        at=now,
        details={
            "connector": connector,
            "message": f"This is a test event sent by rbtk to check connector {connector}. "
            + resolution,
        },
    )


def _resolve(trigger: Notification, at: datetime) -> Notification:
    return Notification(
        action=Action.RESOLVE,
        dedup_key=trigger.dedup_key,
        kind=Kind.TEST,
        rule=None,
        severity=trigger.severity,
        summary=trigger.summary,
        project_slug=trigger.project_slug,
        at=at,  # enqueue_test makes this the row's next_attempt_at
        details=trigger.details,
    )


def _wait(
    context: Context,
    row_id: int,
    wait_s: float,
    *,
    connector: str,
    dedup_key: str,
    resolve_id: int | None,
    resolve_at: datetime | None,
) -> ProbeOutcome:
    row = await_answer(context.reads, row_id, wait_s)
    return ProbeOutcome(
        connector=connector,
        dedup_key=dedup_key,
        delivery_id=row_id,
        status=row.status,
        attempts=row.attempts,
        http_status=row.http_status,
        message=row.message,
        errors=row.errors,
        latency_ms=row.latency_ms,
        endpoint=row.endpoint,
        resolve_delivery_id=resolve_id,
        resolve_at=resolve_at,
    )


@dataclass(frozen=True)
class MessageProbeOutcome:
    """What became of a test message sent to a chat channel."""

    channel: str
    delivery_id: int
    status: str
    http_status: int | None
    message: str | None


def send_test_message(
    context: Context, *, channel: str, wait_s: float = 15.0
) -> MessageProbeOutcome:
    """Send a test message to one channel now and wait for its answer (blocking)."""
    now = datetime.now(UTC)
    with context.engine.begin() as connection:
        found = next((c for c in load_channels(connection) if c.name == channel), None)
        if found is None:
            raise UnknownChannel(channel)
        message = Message(
            title=f"Roboticks test message from rbtk for channel {channel}",
            project="rbtk",
            event_type="rbtk.test",
            event_id=f"test-{uuid.uuid4().hex[:12]}",
            occurred_at=format_rfc3339(now),
            fields=[("Channel", channel), ("Sent by", "rbtk admin")],
            link=context.settings.base_url,
        )
        delivery_id = insert_one(connection, chat_row(found, message, now).first_in_line(now))
    context.wake_delivery()
    state = await_answer(context.reads, delivery_id, wait_s)
    return MessageProbeOutcome(channel, delivery_id, state.status, state.http_status, state.message)

"""Probes, the test sends: a test event straight to one PagerDuty connector, a test message
straight to one chat channel, each answered with what is known within a moment.

A probe goes through the outbox like any notification (first in line), so it is logged,
retried and rate-budgeted as real ones are. A request waits for the first answer at most
`RBTK_TEST_SEND_WAIT_S` (a quarter of a second), and not at all when the row is known to
wait (behind its destination's rate budget): a hung or unreachable peer must not hold a
person's request.
What is still pending is answered as the queued row, which the page and the CLI then follow
through the delivery log (`follow`) until it is sent or failed.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from rbtk.admin.chat_channels import UnknownChannel
from rbtk.admin.connectors import UnknownConnector
from rbtk.channels import pagerduty, registry
from rbtk.channels.message import Message
from rbtk.channels.registry import CHAT
from rbtk.context import Context
from rbtk.outbox.chat.messages import chat_row
from rbtk.outbox.fanout.notifications import enqueue_test
from rbtk.outbox.log import delivery_log
from rbtk.outbox.queue.record import await_answer
from rbtk.outbox.rows import insert_one
from rbtk.outbox.status import FINAL, Status
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
    QUEUED = "queued"  # not answered yet: behind the rate budget, or still being sent


Waiting = dict[str, str | None]  # the delivery log's `waiting`: a reason, until when


def queued(waiting: Waiting | None, peer: str) -> str:
    """What a row never tried yet waits for, in words."""
    if waiting is not None and waiting["reason"] == "rate budget":
        return f"queued behind the rate budget until {waiting['until']}"
    return f"queued: {peer} has not answered yet"


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
    waiting: Waiting | None = None
    action: str = "trigger"

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def problem(self) -> Problem | None:
        if self.status == Status.SENT:
            return None
        if self.status == Status.FAILED:
            return Problem.REFUSED
        if self.attempts == 0:
            return Problem.QUEUED
        return Problem.PAGERDUTY_ERROR if self.http_status is not None else Problem.UNREACHABLE

    @property
    def error(self) -> str | None:
        """One line saying what went wrong, or what it still waits for, and what happens next;
        None when it was sent."""
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
            f"the test event is {queued(self.waiting, 'PagerDuty')}; "
            "it is sent when delivery gets to it (see the delivery log)"
        )


def send_test_event(
    context: Context,
    *,
    connector: str,
    resolve_after_s: float | None = None,
    severity: Severity = Severity.INFO,
    wait_s: float | None = None,
) -> ProbeOutcome:
    """Queue a test trigger (and optionally its resolve) for `connector`; answer what became
    of it within `wait_s` (RBTK_TEST_SEND_WAIT_S unless given). `severity` picks the urgency
    PagerDuty gives it: critical tests a high-urgency page, and the on-call's phone, end to
    end.

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
    seen = _answer(context, trigger_id, (pagerduty.kind,), wait_s)
    return _outcome(context, seen, target.region, resolve_id=resolve_id, resolve_at=resolve_at)


def resolve_test_event(
    context: Context, *, connector: str, dedup_key: str, wait_s: float | None = None
) -> ProbeOutcome:
    """Resolve a test incident now ("Resolve it now"), through the same connector; answer as
    `send_test_event`. Only a key a test trigger of that connector was sent with."""
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
    seen = _answer(context, resolve_id, (pagerduty.kind,), wait_s)
    return _outcome(context, seen, target.region)


def follow(context: Context, *, connector: str, delivery_id: int) -> ProbeOutcome:
    """What became of a test event's row since the request that queued it answered."""
    with context.reads.connect() as connection:
        target = next((t for t in load_targets(connection) if t.name == connector), None)
    if target is None:
        raise UnknownConnector(connector)
    seen = _seen(context, delivery_id, (pagerduty.kind,))
    if seen is None or seen["connector"] != connector:
        raise UnknownDelivery(delivery_id)
    return _outcome(context, seen, target.region)


class UnknownTestEvent(NotFound):
    def __init__(self, connector: str, dedup_key: str) -> None:
        super().__init__(f"no test event with dedup key {dedup_key!r} was sent to {connector}")


class UnknownDelivery(NotFound):
    def __init__(self, delivery_id: int) -> None:
        super().__init__(f"no test send with delivery id {delivery_id}")


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


def _answer(
    context: Context, row_id: int, channels: tuple[str, ...], wait_s: float | None
) -> dict[str, Any]:
    """The row as the delivery log shows it: at once when it is known to wait (behind its
    destination's rate budget), else once it has its first answer or `wait_s` ran out."""
    seen = _seen(context, row_id, channels)
    assert seen is not None  # queued by the caller's committed transaction
    if seen["waiting"] is None and seen["attempts"] == 0 and seen["status"] not in FINAL:
        wait = context.settings.test_send_wait_s if wait_s is None else wait_s
        await_answer(context.reads, row_id, wait)
        seen = _seen(context, row_id, channels)
        assert seen is not None
    return seen


def _seen(context: Context, row_id: int, channels: tuple[str, ...]) -> dict[str, Any] | None:
    with context.reads.connect() as connection:
        return delivery_log.one(
            connection,
            row_id,
            channels=channels,
            rates=registry.rates(context.settings),
            now=datetime.now(UTC),
        )


def _outcome(
    context: Context,
    seen: dict[str, Any],
    region: str,
    *,
    resolve_id: int | None = None,
    resolve_at: datetime | None = None,
) -> ProbeOutcome:
    return ProbeOutcome(
        connector=seen["connector"],
        dedup_key=seen["dedup_key"],
        delivery_id=seen["id"],
        status=seen["status"],
        attempts=seen["attempts"],
        http_status=seen["http_status"],
        message=seen["message"],
        errors=seen["errors"],
        latency_ms=seen["latency_ms"],
        endpoint=context.settings.pagerduty_endpoint(region),
        resolve_delivery_id=resolve_id,
        resolve_at=resolve_at,
        waiting=seen["waiting"],
        action=seen["action"],
    )


@dataclass(frozen=True)
class MessageProbeOutcome:
    """What became of a test message sent to a chat channel."""

    channel: str
    delivery_id: int
    status: str
    http_status: int | None
    message: str | None
    waiting: Waiting | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def said(self) -> str:
        """The channel's answer: `200, ok`; empty before it answered."""
        parts = (self.http_status, self.message)
        return ", ".join(str(part) for part in parts if part is not None)

    @property
    def error(self) -> str | None:
        """One line saying what went wrong, or what it still waits for; None when sent."""
        if self.status == Status.SENT:
            return None
        answer = f" ({self.said})" if self.said else ""
        if self.status == Status.QUEUED:
            waits = queued(self.waiting, self.channel)
            return f"the test message is {waits}; it is sent when delivery gets to it"
        if self.status == Status.FAILED:
            return f"the test message to {self.channel!r} was not delivered: failed{answer}"
        return f"the test message to {self.channel!r} is being retried{answer}"


def send_test_message(
    context: Context, *, channel: str, wait_s: float | None = None
) -> MessageProbeOutcome:
    """Send a test message to one channel now; answer what became of it within `wait_s`
    (RBTK_TEST_SEND_WAIT_S unless given). Blocking: run it in a worker thread."""
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
    return _message(_answer(context, delivery_id, tuple(CHAT), wait_s))


def follow_message(context: Context, *, channel: str, delivery_id: int) -> MessageProbeOutcome:
    """What became of a test message's row since the request that queued it answered."""
    seen = _seen(context, delivery_id, tuple(CHAT))
    if seen is None or seen["channel_name"] != channel:
        raise UnknownDelivery(delivery_id)
    return _message(seen)


def _message(seen: dict[str, Any]) -> MessageProbeOutcome:
    return MessageProbeOutcome(
        seen["channel_name"],
        seen["id"],
        seen["status"],
        seen["http_status"],
        seen["message"],
        seen["waiting"],
    )

"""Send test event: a trigger straight to one connector, answered once PagerDuty answered.

The trigger goes through the outbox like any page (first in line), so it is logged, retried
and rate-budgeted as real pages are; this module only waits to see what became of it.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from rbtk.admin.connectors import UnknownConnector
from rbtk.outbox.fanout import enqueue_test
from rbtk.outbox.queue import await_answer
from rbtk.outbox.rows import Status
from rbtk.policy import keys
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Kind, Notification
from rbtk.routing.pagerduty import load_targets
from rbtk.runtime.context import Context


class Problem(StrEnum):
    REFUSED = "refused"  # PagerDuty answered and will not take it (a 400: bad key, say)
    PAGERDUTY_ERROR = "pagerduty_error"  # 429 or 5xx: rbtk keeps retrying it
    UNREACHABLE = "unreachable"  # no answer at all: connection refused, DNS, timeout
    TIMEOUT = "timeout"  # not attempted, or not answered, within the wait


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class, despite its name

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
    wait_s: float = 15.0,
) -> TestOutcome:
    """Queue a test trigger (and optionally its resolve) for `connector`; wait for the answer.

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
        trigger = _notification(connector, dedup_key, now, resolve_after_s)
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


def _notification(
    connector: str, dedup_key: str, now: datetime, resolve_after_s: float | None
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
        severity=Severity.INFO,
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
) -> TestOutcome:
    row = await_answer(context.engine, row_id, wait_s)
    return TestOutcome(
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

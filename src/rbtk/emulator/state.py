"""Everything the emulator remembers: alerts, accepted events, every request, limits and faults.

The app mutates it only from its event loop, without awaiting mid-change; the lock is for
readers on other threads, such as a test holding the state of an in-process app.
"""

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from rbtk.emulator.alerts import Alert, AlertBook, Outcome
from rbtk.emulator.config import EmulatorConfig
from rbtk.emulator.faults import FaultDecision, FaultInjector, Faults
from rbtk.emulator.ratelimit import SlidingWindowLimiter
from rbtk.runtime.timefmt import format_rfc3339

RequestOutcome = Literal[
    "accepted",
    "invalid",
    "throttled",
    "injected_throttle",
    "injected_error",
    "injected_reject",
    "dropped",
]
AlertFilter = Literal["open", "triggered", "acknowledged", "resolved"]


@dataclass(frozen=True)
class ReceivedEvent:
    received_at: datetime
    routing_key: str
    event_action: str
    dedup_key: str
    outcome: Outcome
    alert_id: str | None
    body: dict[str, Any]

    def to_json(self) -> dict[str, object]:
        return {
            "received_at": format_rfc3339(self.received_at),
            "routing_key": self.routing_key,
            "event_action": self.event_action,
            "dedup_key": self.dedup_key,
            "outcome": self.outcome,
            "alert_id": self.alert_id,
            "body": self.body,
        }


@dataclass(frozen=True)
class ReceivedChange:
    received_at: datetime
    routing_key: str
    body: dict[str, Any]

    def to_json(self) -> dict[str, object]:
        return {
            "received_at": format_rfc3339(self.received_at),
            "routing_key": self.routing_key,
            "body": self.body,
        }


@dataclass(frozen=True)
class RequestRecord:
    received_at: datetime
    path: str
    status: int | None
    outcome: RequestOutcome
    body: object

    def to_json(self) -> dict[str, object]:
        return {
            "received_at": format_rfc3339(self.received_at),
            "path": self.path,
            "status": self.status,
            "outcome": self.outcome,
            "body": self.body,
        }


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._start_afresh()

    def reset(self) -> None:
        with self._lock:
            self._start_afresh()

    def admit(self, routing_key: str) -> bool:
        with self._lock:
            return self._limiter.admit(routing_key)

    def accept(self, body: dict[str, Any], *, dedup_key: str) -> ReceivedEvent:
        """Record an admitted, valid event and apply it to the alerts."""
        with self._lock:
            now = datetime.now(UTC)
            outcome, alert = self._alerts.apply(
                routing_key=body["routing_key"],
                dedup_key=dedup_key,
                action=body["event_action"],
                payload=body.get("payload") or {},
                at=now,
            )
            event = ReceivedEvent(
                received_at=now,
                routing_key=body["routing_key"],
                event_action=body["event_action"],
                dedup_key=dedup_key,
                outcome=outcome,
                alert_id=None if alert is None else alert.id,
                body=body,
            )
            self._events.append(event)
            return event

    def accept_change(self, body: dict[str, Any]) -> None:
        """Record a valid change event: it joins the service's recent changes, never an alert."""
        with self._lock:
            self._changes.append(ReceivedChange(datetime.now(UTC), body["routing_key"], body))

    def changes(self) -> list["ReceivedChange"]:
        with self._lock:
            return list(self._changes)

    def record_request(
        self, *, path: str, status: int | None, outcome: RequestOutcome, body: object
    ) -> None:
        with self._lock:
            self._requests.append(RequestRecord(datetime.now(UTC), path, status, outcome, body))

    def decide_fault(self) -> FaultDecision:
        with self._lock:
            return self._faults.decide()

    def faults(self) -> Faults:
        with self._lock:
            return self._faults.current

    def set_faults(self, faults: Faults) -> Faults:
        with self._lock:
            self._faults.configure(faults)
            return self._faults.current

    def events(self) -> list[ReceivedEvent]:
        with self._lock:
            return list(self._events)

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def alerts(self, status: AlertFilter | None = None) -> list[Alert]:
        with self._lock:
            alerts = self._alerts.all()
        if status is None:
            return alerts
        if status == "open":
            return [alert for alert in alerts if alert.status != "resolved"]
        return [alert for alert in alerts if alert.status == status]

    def _start_afresh(self) -> None:
        self._alerts = AlertBook()
        self._events: list[ReceivedEvent] = []
        self._changes: list[ReceivedChange] = []
        self._requests: list[RequestRecord] = []
        self._limiter = SlidingWindowLimiter(
            limit=self.config.rate_limit, window_s=self.config.rate_window_s
        )
        self._faults = FaultInjector(self.config.faults, seed=self.config.seed)

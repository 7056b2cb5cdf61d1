"""Everything the emulator remembers: alerts and their incidents, services, accepted events,
every request, limits, faults, the maintenance switch and the REST API's access settings.

The app mutates it only from its event loop, without awaiting mid-change; the lock is for
readers on other threads, such as a test holding the state of an in-process app.
"""

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from rbtk.emulator import rest_shapes
from rbtk.emulator.alerts import Alert, AlertBook, Outcome
from rbtk.emulator.config import EmulatorConfig
from rbtk.emulator.faults import FaultDecision, FaultInjector, Faults
from rbtk.emulator.incidents import Filed, IncidentBook
from rbtk.emulator.ratelimit import SlidingWindowLimiter
from rbtk.emulator.rest_access import RestAccess, RestSettings, Verdict
from rbtk.emulator.services import Service, ServiceBook, default_service
from rbtk.emulator.webhooks import API_URL, Webhooks
from rbtk.runtime.secrets import mask
from rbtk.runtime.timefmt import format_rfc3339

RequestOutcome = Literal[
    "accepted",
    "invalid",
    "throttled",
    "injected_throttle",
    "injected_error",
    "injected_reject",
    "dropped",
    # REST API requests
    "answered",
    "unauthorized",
    "forbidden",
    "not_found",
    "bad_request",
    "injected_throttle",
    "rate_limited",
]
AlertFilter = Literal["open", "triggered", "acknowledged", "resolved"]
BY_HAND = "Emulator Oncall"  # who acts by hand when a test names nobody
# What each outcome of an Events API event tells webhook subscribers
CHANGES: dict[Outcome, str] = {
    "opened": "incident.triggered",
    "acknowledged": "incident.acknowledged",
    "resolved": "incident.resolved",
}


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
class RestCall:
    """What a REST request adds to its record; the token only masked."""

    method: str
    query: str
    token: str | None

    @classmethod
    def of(cls, method: str, query: str, token: str | None) -> "RestCall":
        return cls(method, query, None if token is None else mask(token))


@dataclass(frozen=True)
class RequestRecord:
    received_at: datetime
    path: str
    status: int | None
    outcome: RequestOutcome
    body: object
    rest: RestCall | None = None

    def to_json(self) -> dict[str, object]:
        record: dict[str, object] = {
            "received_at": format_rfc3339(self.received_at),
            "path": self.path,
            "status": self.status,
            "outcome": self.outcome,
            "body": self.body,
        }
        if self.rest is not None:
            record |= {
                "method": self.rest.method,
                "query": self.rest.query,
                "token": self.rest.token,
            }
        return record


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._start_afresh()

    def reset(self) -> None:
        with self._lock:
            self.webhooks.close()
            self._start_afresh()

    def admit(self, routing_key: str) -> bool:
        with self._lock:
            return self._limiter.admit(routing_key)

    def accept(self, body: dict[str, Any], *, dedup_key: str) -> ReceivedEvent:
        """Record an admitted, valid event and apply it to the alerts; a new alert opens its
        incident on the service its routing key feeds. During maintenance a resolve is
        dropped, the alert left open."""
        with self._lock:
            now = datetime.now(UTC)
            outcome: Outcome
            alert: Alert | None
            if body["event_action"] == "resolve" and self._drop_resolves:
                outcome, alert = "dropped", None
            else:
                outcome, alert = self._alerts.apply(
                    routing_key=body["routing_key"],
                    dedup_key=dedup_key,
                    action=body["event_action"],
                    payload=body.get("payload") or {},
                    at=now,
                )
            if outcome == "opened" and alert is not None:
                self._incidents.open(alert, self._services.for_key(alert.routing_key))
            filed = None if alert is None else self._file(alert)
            if outcome in CHANGES and filed is not None:
                agent = rest_shapes.service_reference(filed.service, API_URL)
                self.webhooks.incident_changed(CHANGES[outcome], filed, agent=agent)
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
        self,
        *,
        path: str,
        status: int | None,
        outcome: RequestOutcome,
        body: object,
        rest: RestCall | None = None,
    ) -> None:
        with self._lock:
            self._requests.append(
                RequestRecord(datetime.now(UTC), path, status, outcome, body, rest)
            )

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

    def put_service(self, service: Service) -> Service:
        """Create or replace a service; raises KeyTaken for a key another service lists."""
        with self._lock:
            return self._services.put(service)

    def services(self) -> list[Service]:
        with self._lock:
            return self._services.all()

    def service(self, service_id: str) -> Service | None:
        with self._lock:
            return self._services.get(service_id)

    def filed(self) -> list[Filed]:
        """Every incident with its alert and service, oldest first."""
        with self._lock:
            return [filed for alert in self._alerts.all() if (filed := self._file(alert))]

    def resolve_incident(
        self, id_or_number: str, *, by: str = BY_HAND
    ) -> Filed | Literal[False] | None:
        """Resolve an incident by hand, as `by` (a user's name); None when there is no such
        incident, False when it is resolved already."""
        return self._by_hand(id_or_number, "resolved", by)

    def acknowledge_incident(
        self, id_or_number: str, *, by: str = BY_HAND
    ) -> Filed | Literal[False] | None:
        """Acknowledge an incident by hand, as `by`; None when there is no such incident,
        False when it is not triggered."""
        return self._by_hand(id_or_number, "acknowledged", by)

    def _by_hand(self, id_or_number: str, status: str, by: str) -> Filed | Literal[False] | None:
        with self._lock:
            incident = self._incidents.find(id_or_number)
            if incident is None:
                return None
            now = datetime.now(UTC)
            alert = (
                self._alerts.resolve(incident.alert_id, at=now)
                if status == "resolved"
                else self._alerts.acknowledge(incident.alert_id, at=now)
            )
            filed = None if alert is None else self._file(alert)
            if filed is None:
                return False
            self.webhooks.incident_changed(f"incident.{status}", filed, agent=_user(by))
            return filed

    def drop_resolves(self) -> bool:
        with self._lock:
            return self._drop_resolves

    def set_drop_resolves(self, drop: bool) -> None:
        with self._lock:
            self._drop_resolves = drop

    def rest_settings(self) -> RestSettings:
        with self._lock:
            return self._rest.current

    def set_rest_settings(self, settings: RestSettings) -> RestSettings:
        with self._lock:
            self._rest.configure(settings)
            return self._rest.current

    def decide_rest(self, token: str | None) -> Verdict:
        with self._lock:
            return self._rest.decide(token)

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
        self.webhooks = Webhooks(self.config.webhooks)
        self._alerts = AlertBook()
        self._events: list[ReceivedEvent] = []
        self._changes: list[ReceivedChange] = []
        self._requests: list[RequestRecord] = []
        self._limiter = SlidingWindowLimiter(
            limit=self.config.rate_limit, window_s=self.config.rate_window_s
        )
        self._faults = FaultInjector(self.config.faults, seed=self.config.seed)
        self._services = ServiceBook(self.config.services)
        self._incidents = IncidentBook()
        self._drop_resolves = False
        self._rest = RestAccess(self.config.rest)

    def _file(self, alert: Alert) -> Filed | None:
        incident = self._incidents.for_alert(alert.id)
        if incident is None:
            return None
        service = self._services.get(incident.service_id) or default_service()
        return Filed(incident, alert, service)


def _user(name: str) -> dict[str, object]:
    """A webhook's agent: the user who acted in the web app."""
    user_id = "PU" + hashlib.sha256(name.encode()).hexdigest()[:5].upper()
    return {
        "id": user_id,
        "type": "user_reference",
        "summary": name,
        "self": f"{API_URL}/users/{user_id}",
        "html_url": f"{rest_shapes.WEB_URL}/users/{user_id}",
    }

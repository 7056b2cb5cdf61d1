"""Alerts as PagerDuty keeps them: one open alert per (routing_key, dedup_key)."""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from rbtk.runtime.timefmt import format_rfc3339

AlertStatus = Literal["triggered", "acknowledged", "resolved"]
Outcome = Literal["opened", "appended", "acknowledged", "resolved", "dropped"]


@dataclass
class Alert:
    id: str
    routing_key: str
    dedup_key: str
    status: AlertStatus
    severity: str
    summary: str
    event_count: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    last_payload: dict[str, Any]

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "routing_key": self.routing_key,
            "dedup_key": self.dedup_key,
            "status": self.status,
            "severity": self.severity,
            "summary": self.summary,
            "event_count": self.event_count,
            "created_at": format_rfc3339(self.created_at),
            "updated_at": format_rfc3339(self.updated_at),
            "acknowledged_at": _optional_time(self.acknowledged_at),
            "resolved_at": _optional_time(self.resolved_at),
            "last_payload": self.last_payload,
        }


class AlertBook:
    def __init__(self) -> None:
        self._open: dict[tuple[str, str], Alert] = {}
        self._all: list[Alert] = []

    def apply(
        self,
        *,
        routing_key: str,
        dedup_key: str,
        action: str,
        payload: dict[str, Any],
        at: datetime,
    ) -> tuple[Outcome, Alert | None]:
        """Apply a valid event; acknowledge or resolve of a key with no open alert is dropped."""
        key = (routing_key, dedup_key)
        alert = self._open.get(key)
        if action == "trigger":
            if alert is None:
                alert = self._open_alert(routing_key, dedup_key, payload, at)
                return "opened", alert
            alert.severity = payload["severity"]
            alert.summary = payload["summary"]
            alert.last_payload = payload
            _touch(alert, at)
            return "appended", alert
        if alert is None:
            return "dropped", None
        _touch(alert, at)
        if action == "acknowledge":
            alert.status = "acknowledged"
            alert.acknowledged_at = alert.acknowledged_at or at
            return "acknowledged", alert
        alert.status = "resolved"
        alert.resolved_at = at
        del self._open[key]
        return "resolved", alert

    def resolve(self, alert_id: str, *, at: datetime) -> Alert | None:
        """Resolve an open alert by hand, as a responder does in PagerDuty's web app: no event,
        so the event count stays; later resolves of its key find nothing open and are dropped,
        and a later trigger opens a new alert. None when no open alert has that id."""
        for key, alert in self._open.items():
            if alert.id == alert_id:
                alert.status = "resolved"
                alert.resolved_at = alert.updated_at = at
                del self._open[key]
                return replace(alert)
        return None

    def acknowledge(self, alert_id: str, *, at: datetime) -> Alert | None:
        """Acknowledge a triggered alert by hand, as a responder does in the web app: no event.
        None when no triggered alert has that id."""
        for alert in self._open.values():
            if alert.id == alert_id and alert.status == "triggered":
                alert.status = "acknowledged"
                alert.acknowledged_at = alert.updated_at = at
                return replace(alert)
        return None

    def all(self) -> list[Alert]:
        """Copies, in the order the alerts were opened, so readers never see one half-updated."""
        return [replace(alert) for alert in self._all]

    def _open_alert(
        self, routing_key: str, dedup_key: str, payload: dict[str, Any], at: datetime
    ) -> Alert:
        alert = Alert(
            id=uuid.uuid4().hex,
            routing_key=routing_key,
            dedup_key=dedup_key,
            status="triggered",
            severity=payload["severity"],
            summary=payload["summary"],
            event_count=1,
            created_at=at,
            updated_at=at,
            acknowledged_at=None,
            resolved_at=None,
            last_payload=payload,
        )
        self._open[(routing_key, dedup_key)] = alert
        self._all.append(alert)
        return alert


def _touch(alert: Alert, at: datetime) -> None:
    alert.event_count += 1
    alert.updated_at = at


def _optional_time(moment: datetime | None) -> str | None:
    return None if moment is None else format_rfc3339(moment)

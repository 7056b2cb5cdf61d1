"""Incidents: with alert grouping off, each alert the Events API opens is one incident of the
service its routing key feeds, numbered 1, 2, 3… across the account, as PagerDuty numbers them.

An incident's status, title and times are its alert's; what the incident adds is fixed when it
opens: its id and number, its service, and the urgency the service's rule gave it.
"""

import uuid
from dataclasses import dataclass

from rbtk.emulator.alerts import Alert
from rbtk.emulator.services import Service, Urgency
from rbtk.runtime.timefmt import format_rfc3339


@dataclass(frozen=True)
class Incident:
    id: str
    number: int
    alert_id: str
    service_id: str
    urgency: Urgency
    # False when the service was set to create_incidents: one incident and zero alerts.
    has_alert: bool


@dataclass(frozen=True)
class Filed:
    """An incident with its alert and its service as they are now: what the REST API shows."""

    incident: Incident
    alert: Alert
    service: Service

    def to_json(self) -> dict[str, object]:
        """As `/_inspect/incidents` lists it: the ids that tie an incident to its alert."""
        return {
            "id": self.incident.id,
            "incident_number": self.incident.number,
            "alert_id": self.alert.id,
            "service_id": self.service.id,
            "routing_key": self.alert.routing_key,
            "incident_key": self.alert.dedup_key,
            "status": self.alert.status,
            "urgency": self.incident.urgency,
            "title": self.alert.summary,
            "created_at": format_rfc3339(self.alert.created_at),
        }


class IncidentBook:
    def __init__(self) -> None:
        self._by_alert: dict[str, Incident] = {}

    def open(self, alert: Alert, service: Service) -> Incident:
        incident = Incident(
            id="Q" + uuid.uuid4().hex[:13].upper(),
            number=len(self._by_alert) + 1,
            alert_id=alert.id,
            service_id=service.id,
            urgency=service.incident_urgency_rule.urgency_for(alert.severity),
            has_alert=service.alert_creation == "create_alerts_and_incidents",
        )
        self._by_alert[alert.id] = incident
        return incident

    def for_alert(self, alert_id: str) -> Incident | None:
        return self._by_alert.get(alert_id)

    def find(self, id_or_number: str) -> Incident | None:
        """By id, or by incident number, as `GET /incidents/{id}` accepts either."""
        for incident in self._by_alert.values():
            if id_or_number in (incident.id, str(incident.number)):
                return incident
        return None

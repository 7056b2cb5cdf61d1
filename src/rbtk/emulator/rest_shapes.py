"""Incidents, alerts and services as PagerDuty's REST API v2 writes them (the subset vendored in
tests/data/pagerduty-rest-v2-subset.json).

`self` links point at the emulator itself, so a client may follow them; `html_url` links point
at a web app that does not exist (`WEB_URL`, a reserved .invalid name), as nothing serves one.
An alert's REST status is triggered or resolved only: an acknowledged incident's alert is still
triggered, as PagerDuty's Alert schema has no acknowledged.
"""

import hashlib
from typing import Final

from rbtk.emulator.incidents import Filed
from rbtk.emulator.services import Service
from rbtk.runtime.timefmt import format_rfc3339

WEB_URL: Final = "https://emulator.pagerduty.invalid"


def incident(filed: Filed, api_url: str) -> dict[str, object]:
    alert, number = filed.alert, filed.incident.number
    changed = alert.resolved_at or alert.acknowledged_at or alert.created_at
    open_alert = alert.status != "resolved"
    alerts = 1 if filed.incident.has_alert else 0
    return {
        "id": filed.incident.id,
        "type": "incident",
        "summary": f"[#{number}] {alert.summary}",
        "self": f"{api_url}/incidents/{filed.incident.id}",
        "html_url": f"{WEB_URL}/incidents/{filed.incident.id}",
        "incident_number": number,
        "title": alert.summary,
        "created_at": format_rfc3339(alert.created_at),
        "updated_at": format_rfc3339(alert.updated_at),
        "status": alert.status,
        "incident_key": alert.dedup_key,
        "service": service_reference(filed.service, api_url),
        "assignments": [],
        "last_status_change_at": format_rfc3339(changed),
        "resolved_at": None if alert.resolved_at is None else format_rfc3339(alert.resolved_at),
        "alert_counts": {
            "all": alerts,
            "triggered": alerts if open_alert else 0,
            "resolved": 0 if open_alert else alerts,
        },
        "urgency": filed.incident.urgency,
    }


def alert(filed: Filed, api_url: str) -> dict[str, object]:
    alert, incident_id = filed.alert, filed.incident.id
    details = alert.last_payload.get("custom_details")
    return {
        "id": alert.id,
        "type": "alert",
        "summary": alert.summary,
        "self": f"{api_url}/incidents/{incident_id}/alerts/{alert.id}",
        "html_url": f"{WEB_URL}/alerts/{alert.id}",
        "created_at": format_rfc3339(alert.created_at),
        "status": rest_alert_status(filed),
        "alert_key": alert.dedup_key,
        "service": service_reference(filed.service, api_url),
        "incident": {
            "id": incident_id,
            "type": "incident_reference",
            "summary": f"[#{filed.incident.number}] {alert.summary}",
            "self": f"{api_url}/incidents/{incident_id}",
            "html_url": f"{WEB_URL}/incidents/{incident_id}",
        },
        "suppressed": False,
        "severity": alert.severity,
        "body": {"type": "alert_body", "contexts": [], "details": details or {}},
    }


def rest_alert_status(filed: Filed) -> str:
    return "resolved" if filed.alert.status == "resolved" else "triggered"


def service(
    service: Service,
    filed: list[Filed],
    api_url: str,
    *,
    routing_keys: list[str],
    full_integrations: bool,
) -> dict[str, object]:
    """`filed` are the service's incidents (for its status and last incident); `routing_keys`
    its integrations', listed in full (with the key) when `include[]=integrations` asks."""
    statuses = {each.alert.status for each in filed}
    status = (
        "critical" if "triggered" in statuses else "warning" if "acknowledged" in statuses
        else "active"
    )  # fmt: skip
    return {
        "id": service.id,
        "type": "service",
        "summary": service.name,
        "self": f"{api_url}/services/{service.id}",
        "html_url": f"{WEB_URL}/service-directory/{service.id}",
        "name": service.name,
        "status": status,
        "last_incident_timestamp": (format_rfc3339(filed[-1].alert.created_at) if filed else None),
        "alert_creation": service.alert_creation,
        "alert_grouping_parameters": service.to_json()["alert_grouping_parameters"],
        "auto_resolve_timeout": service.auto_resolve_timeout,
        "acknowledgement_timeout": service.acknowledgement_timeout,
        "incident_urgency_rule": service.to_json()["incident_urgency_rule"],
        "integrations": [
            _integration(service, key, api_url, full=full_integrations) for key in routing_keys
        ],
        "teams": [],
    }


def service_reference(service: Service, api_url: str) -> dict[str, object]:
    return {
        "id": service.id,
        "type": "service_reference",
        "summary": service.name,
        "self": f"{api_url}/services/{service.id}",
        "html_url": f"{WEB_URL}/service-directory/{service.id}",
    }


def _integration(
    service: Service, routing_key: str, api_url: str, *, full: bool
) -> dict[str, object]:
    # A stable id per key that does not reveal the key: a reference carries no secret.
    integration_id = "P" + hashlib.sha256(routing_key.encode()).hexdigest()[:6].upper()
    reference: dict[str, object] = {
        "id": integration_id,
        "type": "events_api_v2_inbound_integration" + ("" if full else "_reference"),
        "summary": "Events API v2",
        "self": f"{api_url}/services/{service.id}/integrations/{integration_id}",
        "html_url": f"{WEB_URL}/services/{service.id}/integrations/{integration_id}",
    }
    if full:
        reference |= {
            "name": "Events API v2",
            "integration_key": routing_key,
            "service": service_reference(service, api_url),
        }
    return reference

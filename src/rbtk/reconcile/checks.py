"""PagerDuty service health: what usually goes wrong between rbtk and a service (the README's
troubleshooting and best practice), checked for the operator.

From PagerDuty's REST API (with the connector's REST API key and service id):
- alert grouping off, else PagerDuty merges incidents rbtk keeps apart by dedup key;
- the service creates alerts and incidents;
- no auto-resolve timeout (it closes incidents behind rbtk's back while they still fire);
- the acknowledgement timeout, which pages again an acknowledged incident;
- the urgency rule, so the page can show what PagerDuty really does with each severity;
- the webhook subscription, when there is one: PagerDuty disables it after 3 dropped
  deliveries in a row, and rbtk then hears of the on-call only at the next reconcile pass.
From rbtk's own configuration:
- one integration key per connector, one PagerDuty service per connector;
- production and staging projects not routed to one service ("one service per environment");
- verified end to end within the last 90 days ("test the rotation at least quarterly").
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from rbtk.admin import connectors
from rbtk.admin.connectors import ConnectorView
from rbtk.context import Context
from rbtk.policy.severity import Severity
from rbtk.reconcile import webhook_secrets
from rbtk.reconcile.reminders import VERIFY_EVERY, overdue_since
from rbtk.reconcile.rest import Rest, RestError, RestNotFound
from rbtk.routing.pagerduty import load_rules
from rbtk.runtime.timefmt import span
from rbtk.store.tables import connectors as connectors_table

_STAGING = re.compile(r"(^|[^a-z])(staging|stage|dev|test|qa|sandbox)([^a-z]|$)")
_PRODUCTION = re.compile(r"(^|[^a-z])(prod|production)([^a-z]|$)")


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    message: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "level": self.level.value, "message": self.message}


@dataclass(frozen=True)
class Health:
    connector: str
    service: str | None  # the service's name, once read
    checks: list[Check] = field(default_factory=list)
    # What PagerDuty does with each severity per the service's urgency rule; None unread.
    urgency: dict[Severity, str] | None = None

    @property
    def level(self) -> Level:
        levels = {check.level for check in self.checks}
        return (
            Level.FAIL if Level.FAIL in levels else Level.WARN if Level.WARN in levels else Level.OK
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "service": self.service,
            "level": self.level.value,
            "checks": [check.to_json() for check in self.checks],
            "urgency": None
            if self.urgency is None
            else {severity.value: urgency for severity, urgency in self.urgency.items()},
        }


def check(context: Context, *, connector: str, now: datetime) -> Health:
    """Every check for one connector (blocking: it reads PagerDuty)."""
    with context.reads.connect() as connection:
        view = connectors.get(connection, name=connector)
        others = [v for v in connectors.list_all(connection) if v.name != connector]
        local = _local(connection, view, others, now)
        token = connection.execute(
            select(connectors_table.c.rest_key).where(connectors_table.c.id == view.id)
        ).scalar()
        subscription = webhook_secrets.get(connection, view.id)
    if token is None or not view.service_id:
        reading = Check(
            "PagerDuty service",
            Level.WARN,
            "set a REST API key and the service id (the connector's reconcile settings) to check "
            "the service's own settings",
        )
        return Health(connector, None, [reading, *local])
    try:
        with Rest.of(context.settings, context.vault, region=view.region, token=token) as rest:
            service = rest.service(view.service_id)
            hooks = [] if subscription is None else [_webhooks(rest, subscription.subscription_id)]
    except RestError as error:
        return Health(connector, None, [Check("PagerDuty service", Level.FAIL, str(error)), *local])
    urgency = urgencies(service.get("incident_urgency_rule"))
    return Health(connector, service.get("name"), [*_service(service), *hooks, *local], urgency)


def _webhooks(rest: Rest, subscription_id: str) -> Check:
    try:
        found = rest.webhook_subscription(subscription_id)
    except RestNotFound:
        return Check("webhooks", Level.FAIL, (
            f"subscription {subscription_id} no longer exists at PagerDuty: enable the "
            "connector's webhooks again"
        ))  # fmt: skip
    if (found.get("delivery_method") or {}).get("temporarily_disabled") or not found.get("active"):
        return Check("webhooks", Level.FAIL, (
            f"PagerDuty disabled subscription {subscription_id} (3 deliveries dropped in a "
            "row): check that PagerDuty reaches rbtk, then enable it again"
        ))  # fmt: skip
    return Check("webhooks", Level.OK, f"subscription {subscription_id} delivers")


def urgencies(rule: object) -> dict[Severity, str] | None:
    """What the service's urgency rule makes of each severity; "during support hours" when
    it follows them (outside them is said by the check)."""
    if not isinstance(rule, dict):
        return None
    if rule.get("type") == "use_support_hours":
        return urgencies(rule.get("during_support_hours"))
    urgency = rule.get("urgency")
    if urgency == "severity_based":
        return {severity: severity.urgency for severity in Severity}
    if urgency in ("high", "low"):
        return {severity: str(urgency) for severity in Severity}
    return None


def _service(service: dict[str, Any]) -> list[Check]:
    found = []
    grouping = (service.get("alert_grouping_parameters") or {}).get("type")
    if grouping:
        found.append(Check(
            "alert grouping", Level.FAIL,
            f"alert grouping is {grouping}: PagerDuty's alert grouping overrides Roboticks' "
            "dedup keys, merging incidents rbtk keeps apart: set it to Off",
        ))  # fmt: skip
    else:
        found.append(Check("alert grouping", Level.OK, "off: each dedup key is its own incident"))
    if (
        service.get("alert_creation", "create_alerts_and_incidents")
        != "create_alerts_and_incidents"
    ):
        found.append(Check(
            "incident behaviour", Level.WARN,
            "the service creates incidents only: set it to create alerts and incidents, so "
            "each page is an alert PagerDuty can show and resolve by its dedup key",
        ))  # fmt: skip
    else:
        found.append(Check("incident behaviour", Level.OK, "creates alerts and incidents"))
    auto_resolve = service.get("auto_resolve_timeout")
    if auto_resolve:
        found.append(Check(
            "auto-resolve", Level.FAIL,
            f"PagerDuty resolves incidents left open for {span(auto_resolve)}, behind rbtk's "
            "back while the condition still fires (a pool offline for hours): set "
            "auto-resolution to Never; rbtk resolves when the condition clears",
        ))  # fmt: skip
    else:
        found.append(Check("auto-resolve", Level.OK, "never: rbtk resolves what it opened"))
    ack = service.get("acknowledgement_timeout")
    if ack:
        found.append(Check(
            "acknowledgement timeout", Level.WARN,
            f"an acknowledged incident pages again after {span(ack)}: keep it if that is how "
            "the team wants to be reminded",
        ))  # fmt: skip
    rule = service.get("incident_urgency_rule") or {}
    if rule.get("type") == "use_support_hours":
        outside = (rule.get("outside_support_hours") or {}).get("urgency")
        found.append(Check(
            "urgency", Level.WARN,
            f"urgency follows support hours: outside them every page is {outside} urgency; "
            "the table shows the urgency during them",
        ))  # fmt: skip
    elif rule.get("urgency") in ("high", "low"):
        found.append(Check(
            "urgency", Level.WARN,
            f"every page is {rule['urgency']} urgency, whatever its severity: set the "
            "urgency to \"based on alert severity\" for Roboticks' severities to count",
        ))  # fmt: skip
    else:
        found.append(Check("urgency", Level.OK, "based on alert severity"))
    return found


def _local(
    connection: Connection, view: ConnectorView, others: list[ConnectorView], now: datetime
) -> list[Check]:
    found = []
    sharing = [o.name for o in others if o.key_fingerprint == view.key_fingerprint]
    if sharing:
        found.append(Check(
            "integration key", Level.WARN,
            f"{', '.join(sharing)} uses the same integration key: their pages and dedup keys "
            "share one service and one rate budget; give each connector its own",
        ))  # fmt: skip
    same_service = [o.name for o in others if view.service_id and o.service_id == view.service_id]
    if same_service:
        found.append(Check(
            "one service per environment", Level.WARN,
            f"{', '.join(same_service)} pages the same PagerDuty service {view.service_id}",
        ))  # fmt: skip
    projects = [rule.project or "*" for rule in load_rules(connection) if view.name in rule.targets]
    staging = [p for p in projects if _STAGING.search(p.lower())]
    production = [p for p in projects if _PRODUCTION.search(p.lower())]
    if staging and production:
        found.append(Check(
            "one service per environment", Level.WARN,
            f"routing sends production ({', '.join(production)}) and staging "
            f"({', '.join(staging)}) projects to this one service: give each environment its "
            "own connector and service, so a staging failure never wakes production's on-call",
        ))  # fmt: skip
    since = overdue_since(view, now)
    if since is not None:
        last = (
            f"last verified {view.verified_at:%Y-%m-%d}" if view.verified_at else "never verified"
        )
        found.append(Check(
            "tested end to end", Level.WARN,
            f"{last}: test the rotation end to end at least every {VERIFY_EVERY.days} days "
            "(send a critical test event from this page, with a REST API key set)",
        ))  # fmt: skip
    else:
        found.append(Check(
            "tested end to end", Level.OK,
            f"verified {view.verified_at:%Y-%m-%d}" if view.verified_at else "new connector",
        ))  # fmt: skip
    return found

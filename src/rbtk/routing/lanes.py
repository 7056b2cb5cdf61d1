"""Per-connector truth: what one connector is sent of the policy's notifications.

The policy emits a trigger each time one of its rules starts to hold for a condition, at
that rule's severity. Each connector then gets exactly what its own toggles and severity
cap promise: a trigger reaches a connector's lane (connector, dedup key) only when the
connector takes the rule, and only when the severity it would be sent at rises above what
that lane was already sent. So a connector with only "any pool offline" on is paged at 60
minutes for an air-gapped pool, while one with both rules on, paged critical at 15, is not
paged again at 60.
"""

from dataclasses import dataclass, field

from rbtk.policy.rules import DEFAULT_ENABLED, Rule
from rbtk.policy.severity import Severity, is_sent
from rbtk.policy.state import Notification


@dataclass(frozen=True)
class Audience:
    """What a connector takes: its rule toggles, its severity cap, and whether it sends info."""

    rules: frozenset[Rule] = field(default=DEFAULT_ENABLED)
    max_severity: Severity | None = None
    send_info: bool = False


def capped(severity: Severity, max_severity: Severity | None) -> Severity:
    """A connector's severity cap: a staging service only ever gets low-urgency pages."""
    if max_severity is not None and severity > max_severity:
        return max_severity
    return severity


def takes(notification: Notification, audience: Audience) -> Severity | None:
    """The severity this connector would be paged at for a trigger, or None when its toggles
    (the rule is off) or its info opt-out keep the trigger away from it."""
    if notification.rule is None or notification.rule not in audience.rules:
        return None
    severity = capped(notification.severity, audience.max_severity)
    return severity if is_sent(severity, send_info=audience.send_info) else None


def admits(
    notification: Notification, audience: Audience, sent: Severity | None
) -> Severity | None:
    """The severity to page this lane at, or None when it sends nothing new: the connector
    does not take the trigger, or its lane was already sent as much (`sent`)."""
    severity = takes(notification, audience)
    if severity is None or (sent is not None and severity <= sent):
        return None
    return severity

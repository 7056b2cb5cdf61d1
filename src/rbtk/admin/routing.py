"""PagerDuty routing rules: the one write path.

The rules are an ordered list (`rbtk.routing.ordered_rules`) written only whole (`replace_rules`),
validated first, so a bad list changes nothing; each change is audited whole (the rules
before and after). Errors (under `rbtk.runtime.errors`):

    Invalid ── InvalidRouting (an InvalidList) — the rule list is wrong (an unknown connector,
               an event type neither known nor a glob, ...); `errors` names each
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from rbtk.admin import audit
from rbtk.policy.events import PAYLOADS
from rbtk.routing import ordered_rules
from rbtk.routing.pagerduty import RouteRule, load_rules
from rbtk.runtime.errors import InvalidList
from rbtk.store.tables import connectors, routing_rules

ROUTING_TARGET = "pagerduty routing"  # the audit log's target of every routing change


class InvalidRouting(InvalidList):
    pass


def replace_rules(
    connection: Connection, rules: Sequence[RouteRule], *, by: str, now: datetime
) -> list[RouteRule]:
    """Validate the whole list, then make it the routing; a bad list changes nothing."""
    known = {row.name for row in connection.execute(select(connectors.c.name))}
    errors = ordered_rules.rule_errors(
        rules,
        known,
        noun="connector",
        refuse_catch_all="give a project or an event type (events that no rule matches go to "
        "the default connectors)",
        # Only the known types can page, so a rule naming any other type would never match.
        event_types=PAYLOADS.keys(),
    )
    if errors:
        raise InvalidRouting(errors)
    before = routing_state(connection)
    ordered_rules.store(connection, routing_rules, rules, now=now)
    after = load_rules(connection)
    audit.record(
        connection,
        by=by,
        action="routing.replace",
        target=ROUTING_TARGET,
        before=before,
        after=_state(after),
        at=now,
    )
    return after


def routing_state(connection: Connection) -> dict[str, Any]:
    """What the audit log keeps of the PagerDuty routing: the rules, in order."""
    return _state(load_rules(connection))


def _state(rules: Sequence[RouteRule]) -> dict[str, Any]:
    return {"rules": [rule.audited() for rule in rules]}


def default_names(connection: Connection) -> list[str]:
    """The connectors that get what no rule matches."""
    rows = connection.execute(
        select(connectors.c.name)
        .where(connectors.c.is_default.is_(True))
        .order_by(connectors.c.name)
    )
    return [row.name for row in rows]

"""PagerDuty routing rules: the one write path.

The rules are an ordered list (`rbtk.routing.ordered`) written only whole (`replace_rules`),
validated first, so a bad list changes nothing. Errors (under `rbtk.admin.errors`):

    Invalid ── InvalidRouting (an InvalidList) — the rule list is wrong (an unknown connector,
               an event type neither known nor a glob, ...); `errors` names each
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from rbtk.admin.errors import InvalidList
from rbtk.intake.events import PAYLOADS
from rbtk.routing import ordered as ordered_rules
from rbtk.routing.pagerduty import RouteRule, load_rules
from rbtk.store.tables import connectors, routing_rules


class InvalidRouting(InvalidList):
    pass


def replace_rules(
    connection: Connection, rules: Sequence[RouteRule], *, now: datetime
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
    ordered_rules.store(connection, routing_rules, rules, now=now)
    return load_rules(connection)


def default_names(connection: Connection) -> list[str]:
    """The connectors that get what no rule matches."""
    rows = connection.execute(
        select(connectors.c.name)
        .where(connectors.c.is_default.is_(True))
        .order_by(connectors.c.name)
    )
    return [row.name for row in rows]

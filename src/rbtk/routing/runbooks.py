"""Each paging rule's runbook URL, as fan-out reads it (from memory: `rbtk.routing.snapshot`)."""

from sqlalchemy import Connection, select

from rbtk.policy.rules import Rule
from rbtk.store.tables import runbooks


def urls_by_rule(connection: Connection) -> dict[Rule, str]:
    """The rules that have a runbook, and its URL; a rule no longer known is skipped."""
    rows = connection.execute(select(runbooks.c.rule, runbooks.c.url))
    return {Rule(r.rule): r.url for r in rows if r.rule in Rule.__members__.values()}

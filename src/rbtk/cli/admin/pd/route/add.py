"""`rbtk admin pd route add --connector NAME ...`: a routing rule, at the end or a position."""

from typing import Annotated

import typer

from rbtk.cli.admin import rule_commands
from rbtk.cli.admin.pd.route.common import ROUTING
from rbtk.cli.admin.rule_commands import InsertAt
from rbtk.cli.remote import remote
from rbtk.routing.pagerduty import RouteRule


def add(
    ctx: typer.Context,
    connector: Annotated[
        list[str],
        typer.Option("--connector", metavar="NAME", help="A connector to page; repeatable."),
    ],
    project: Annotated[
        str | None,
        typer.Option("--project", metavar="GLOB", help="Project slug, exact or a glob: ware*."),
    ] = None,
    event_type: Annotated[
        str | None,
        typer.Option(
            "--event-type",
            metavar="GLOB",
            help="A known event type (runner_pool.offline) or a glob (runner_pool.*).",
        ),
    ] = None,
    position: InsertAt = None,
) -> None:
    """Add a rule: events of matching projects and types page these connectors."""
    rule = RouteRule(0, project, event_type, tuple(connector))
    rule_commands.add(ROUTING, rule, position, remote(ctx))

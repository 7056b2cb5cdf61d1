"""`rbtk admin pd route add --connector NAME ...`: a routing rule, at the end or a position."""

from typing import Annotated

import typer

from rbtk.cli.admin.pd.route.common import describe, edited, fetch, save
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.routing import RouteRule, inserted


def add(
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
            "--event-type", metavar="GLOB", help="Event type, exact or a glob: runner_pool.*."
        ),
    ] = None,
    position: Annotated[
        int | None,
        typer.Option(
            "--position", min=1, help="Where to insert it (1 is first); the end by default."
        ),
    ] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Add a rule: events of matching projects and types page these connectors."""
    rule = RouteRule(0, project, event_type, tuple(connector))
    with Api(url, token) as api:
        rules = edited(lambda: inserted(fetch(api), rule, position=position))
        routing = save(api, rules)
    at = position or len(rules)
    typer.echo(f"added routing rule at position {at}")
    typer.echo("\n".join(describe(routing)))

"""`rbtk admin notify rules add --channel NAME ...`: a rule, at the end or a position."""

from typing import Annotated

import typer

from rbtk.cli.admin.notify.rules.common import describe, edited, fetch, save
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.notify import NotifyRule
from rbtk.routing import inserted


def add(
    channel: Annotated[
        list[str],
        typer.Option("--channel", metavar="NAME", help="A channel to send to; repeatable."),
    ],
    project: Annotated[
        str | None,
        typer.Option(
            "--project", metavar="GLOB", help="Project slug, exact or a glob; all if left out."
        ),
    ] = None,
    event_type: Annotated[
        str | None,
        typer.Option(
            "--event-type", metavar="GLOB", help="Event type, exact or a glob; all if left out."
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
    """Add a rule: matching events that page nobody go to these channels."""
    rule = NotifyRule(0, project, event_type, tuple(channel))
    with Api(url, token) as api:
        rules = edited(lambda: inserted(fetch(api), rule, position=position))
        saved = save(api, rules)
    typer.echo(f"added notification rule at position {position or len(rules)}")
    typer.echo("\n".join(describe(saved)))

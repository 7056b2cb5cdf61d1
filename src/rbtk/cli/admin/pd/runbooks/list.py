"""`rbtk admin pd runbooks list`: each paging rule and its runbook URL."""

from typing import Any

import typer

from rbtk.cli.remote import remote
from rbtk.cli.tables import table

PATH = "/api/v1/runbooks"
HEADERS = ("RULE", "RUNBOOK")


def list_runbooks(ctx: typer.Context) -> None:
    """List every paging rule with its runbook URL ('-' where it has none)."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(PATH, expect=("runbooks",))
    server.show(answer, describe)


def describe(answer: dict[str, Any]) -> list[str]:
    return table(HEADERS, [(r["rule"], r["url"] or "-") for r in answer["runbooks"]])

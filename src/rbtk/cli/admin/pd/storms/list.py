"""`rbtk admin pd storms list`: the newest storms first."""

from typing import Any

import typer

from rbtk.cli.remote import remote
from rbtk.cli.tables import moment, table

PATH = "/api/v1/pagerduty/storms"
HEADERS = (
    "ID",
    "CONNECTOR",
    "STATE",
    "STARTED (UTC)",
    "ENDED (UTC)",
    "MEMBERS",
    "HELD",
    "UMBRELLA",
)


def list_storms(ctx: typer.Context) -> None:
    """List storms, open and ended, the newest first."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(PATH, expect=("storms",))
    server.show(answer, describe)


def describe(answer: dict[str, Any]) -> list[str]:
    storms = answer["storms"]
    if not storms:
        return ["no storm so far"]
    return table(HEADERS, [row(s) for s in storms])


def row(storm: dict[str, Any]) -> tuple[str, ...]:
    return (
        str(storm["id"]),
        storm["connector"],
        storm["state"],
        moment(storm["started_at"]),
        moment(storm["ended_at"]),
        f"{storm['members']:,}",
        f"{storm['held']:,}",
        storm["summary"] or "not sent yet",
    )

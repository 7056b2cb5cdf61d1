"""`rbtk admin audit`: every configuration change, newest first: when, who, what, and the
fields it changed."""

import json
from typing import Annotated, Any

import typer

from rbtk.cli.remote import remote
from rbtk.cli.tables import moment, table

PATH = "/api/v1/audit"
MAX_LIMIT = 200
HEADERS = ("ID", "TIME (UTC)", "BY", "ACTION", "TARGET", "CHANGES")


def audit(
    ctx: typer.Context,
    action: Annotated[
        str | None,
        typer.Option(
            metavar="ACTION",
            help="Only this action (connector.update) or family of actions (connector).",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(metavar="TARGET", help="Only changes of this (pd-production, window #3)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="At most this many.")] = 50,
    before_id: Annotated[
        int | None, typer.Option(min=1, help="Only entries older than this id (the next page).")
    ] = None,
) -> None:
    """Show the audit log: who changed the configuration, when, and what changed."""
    params = {"action": action, "target": target, "limit": limit, "before_id": before_id}
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(PATH, params=params, expect=("entries",))
    server.show(answer, describe)


def describe(answer: dict[str, Any]) -> list[str]:
    entries = answer["entries"]
    if not entries:
        return ["no configuration changes recorded"]
    lines = table(HEADERS, [_row(entry) for entry in entries], free_text=("CHANGES",))
    if answer.get("next_before_id") is not None:
        lines.append(f"older entries: --before-id {answer['next_before_id']}")
    return lines


def _row(entry: dict[str, Any]) -> tuple[str, ...]:
    return (
        str(entry["id"]),
        moment(entry["at"]),
        entry["actor"],
        entry["action"],
        entry["target"],
        changes(entry),
    )


def changes(entry: dict[str, Any]) -> str:
    """ "send_info: false → true; region: us → eu", or what was created or removed."""
    if entry["before"] is None:
        return "created"
    if entry["after"] is None:
        return "removed"
    return "; ".join(
        f"{c['field']}: {_value(c['before'])} → {_value(c['after'])}" for c in entry["changes"]
    )


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)

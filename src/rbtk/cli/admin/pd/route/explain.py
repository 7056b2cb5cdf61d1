"""`rbtk admin pd route explain EVENT_FILE`: where an event would page, sending nothing."""

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.route.common import PATH
from rbtk.cli.common import fail, read_json
from rbtk.cli.remote import remote
from rbtk.cli.tables import fields, table

SHOWN = ("event", "rule", "connectors", "reason", "pages")


def explain(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="EVENT_FILE",
            help="A JSON file with one event (id and occurred_at may be left out); - is stdin.",
        ),
    ],
) -> None:
    """Show which rule an event matches and which connectors it would page; sends nothing."""
    event = _event_in(file)
    server = remote(ctx)
    with server.api() as api:
        answer = api.post(f"{PATH}/explain", event, expect=SHOWN)
    server.show(answer, describe)


def describe(answer: Mapping[str, Any]) -> list[str]:
    event, rule = answer["event"], answer["rule"]
    matched = "none" if rule is None else f"{rule['position']}"
    notice = [("notice", answer["notice"])] if answer.get("notice") else []
    lines = fields(
        [
            ("event", f"{event['event_type']} in project {event['project']}"),
            *notice,
            ("rule", matched),
            ("connectors", ", ".join(answer["connectors"]) or "none"),
            ("reason", answer["reason"]),
            ("pages", "" if answer["pages"] else _why_none(answer)),
        ]
    )
    if answer["pages"]:
        rows = [(p["connector"], p["rule"], p["note"]) for p in answer["pages"]]
        headers = ("CONNECTOR", "RULE", "OUTCOME")
        lines += table(headers, rows, free_text=("OUTCOME",), indent=2)
    lines.append("nothing was sent")
    return lines


def _why_none(answer: Mapping[str, Any]) -> str:
    if not answer["connectors"]:
        return "none: no connector gets it"
    return f"none: no paging rule acts on this {answer['event']['event_type']} event"


def _event_in(file: str) -> Any:
    content, label = read_json(file)
    if not isinstance(content, dict):
        raise fail(f"{label} must hold one event: a JSON object")
    return content

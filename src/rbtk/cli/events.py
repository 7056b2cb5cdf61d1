"""`rbtk events send FILE`: post platform events to a running rbtk, one result line each."""

from typing import Annotated, Any

import typer

from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.cli.common import fail, read_json

app = typer.Typer(no_args_is_help=True, help="Send platform events to rbtk.")

CHUNK = 1000  # the API's limit per request


@app.command()
def send(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help='A JSON file with one event, a list, or {"events": [...]}; - reads stdin.',
        ),
    ],
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Send events; print accepted, duplicate or rejected for each. Exit 1 if any was rejected."""
    events = _events_in(file)
    rejected = 0
    with Api(url, token, scope="events") as api:
        for start in range(0, len(events), CHUNK):
            chunk = {"events": events[start : start + CHUNK]}
            answer = api.post("/api/v1/events", chunk, expect=("results",))
            for item in answer["results"]:
                typer.echo(_line(item, start))
                rejected += item["status"] == "rejected"
    if rejected:
        raise typer.Exit(1)


def _events_in(file: str) -> list[Any]:
    content, label = read_json(file)
    if isinstance(content, dict) and "events" in content:
        content = content["events"]
        if not isinstance(content, list):
            raise fail(f'{label}: "events" must be a list of events')
    elif isinstance(content, dict):
        content = [content]
    elif not isinstance(content, list):
        raise fail(f'{label} must hold one event object, a list of them, or {{"events": [...]}}')
    if not content:
        raise fail(f"{label} holds no events")
    return content


def _line(item: dict[str, Any], start: int) -> str:
    event_id = item.get("id") or "(no id)"
    if item["status"] == "rejected":
        errors = "; ".join(item.get("errors") or ["rejected"])
        return f"rejected #{start + item['index']} {event_id}: {errors}"
    return f"{item['status']} {event_id}"

"""`rbtk events send FILE`: post platform events to a running rbtk, one result line each."""

from typing import Annotated, Any

import typer

from rbtk.cli.common import fail, read_json
from rbtk.cli.remote import connect, remote

app = typer.Typer(no_args_is_help=True, help="Send platform events to rbtk.", callback=connect)

CHUNK = 1000  # the API's limit per request
ACCEPTANCES = ("accepted", "duplicate", "rejected")


@app.command()
def send(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help='A JSON file with one event, a list, or {"events": [...]}; - reads stdin.',
        ),
    ],
) -> None:
    """Send events; print accepted, duplicate or rejected for each. Exit 1 if any was rejected.

    More than the API takes at once go in several requests; their answers are printed as one,
    each result's index counting from the file's first event.
    """
    events = _events_in(file)
    server = remote(ctx)
    results: list[dict[str, Any]] = []
    with server.api(scope="events") as api:
        for start in range(0, len(events), CHUNK):
            chunk = {"events": events[start : start + CHUNK]}
            answer = api.post("/api/v1/events", chunk, expect=("results",))
            results += [{**item, "index": start + item["index"]} for item in answer["results"]]
    counts = {v: sum(r["status"] == v for r in results) for v in ACCEPTANCES}
    server.show({**counts, "results": results}, describe)
    if counts["rejected"]:
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


def describe(answer: dict[str, Any]) -> list[str]:
    return [_line(item) for item in answer["results"]]


def _line(item: dict[str, Any]) -> str:
    event_id = item.get("id") or "(no id)"
    if item["status"] == "rejected":
        errors = "; ".join(item.get("errors") or ["rejected"])
        return f"rejected #{item['index']} {event_id}: {errors}"
    return f"{item['status']} {event_id}"

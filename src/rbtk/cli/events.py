"""`rbtk events send FILE`: post platform events to a running rbtk, one result line each;
`rbtk events list` and `rbtk events show ID`: what became of them, and why (admin token)."""

from typing import Annotated, Any
from urllib.parse import quote

import typer

from rbtk.cli.common import fail, read_json
from rbtk.cli.lazy import typer_app
from rbtk.cli.remote import connect, remote
from rbtk.cli.tables import fields, moment, table

app = typer_app(
    no_args_is_help=True,
    help="Send platform events to rbtk, and see what became of them.",
    callback=connect,
)
PATH = "/api/v1/events"
LIST_HEADERS = ("RECEIVED (UTC)", "ID", "TYPE", "PROJECT", "PAGED", "WHY NOT")
ROW_HEADERS = ("DELIVERY", "TO", "ACTION", "SEVERITY", "STATUS", "QUEUED (UTC)", "SENT (UTC)")

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
    notice = f" ({item['notice']})" if item.get("notice") else ""
    return f"{item['status']} {event_id}{notice}"


@app.command("list")
def list_events(
    ctx: typer.Context,
    project: Annotated[
        str | None, typer.Option("--project", metavar="SLUG", help="Only this project's.")
    ] = None,
    event_type: Annotated[
        str | None, typer.Option("--type", metavar="TYPE", help="Only events of this type.")
    ] = None,
    paged: Annotated[
        bool | None,
        typer.Option("--paged/--not-paged", help="Only events that paged, or that did not."),
    ] = None,
    before: Annotated[
        str | None, typer.Option("--before", metavar="ID", help="The page after this event.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
) -> None:
    """List received events, newest first: whether each paged, and the first reason why not."""
    params = {
        "project": project,
        "type": event_type,
        "paged": None if paged is None else str(paged).lower(),
        "before": before,
        "limit": limit,
    }
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(PATH, params=params, expect=("events", "next_before"))
    server.show(answer, describe_list)


@app.command()
def show(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(metavar="ID", help="The event's id.")],
) -> None:
    """Show an event: whether it paged, why not where not, what it is part of that is still
    open, and every delivery it queued."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(
            f"{PATH}/{quote(event_id, safe='')}", expect=("event", "incidents", "deliveries")
        )
    server.show(answer, describe_event)


def describe_list(answer: dict[str, Any]) -> list[str]:
    found = answer["events"]
    if not found:
        return ["no event"]
    rows = [
        (
            moment(e["received_at"]),
            e["id"],
            e["type"],
            e["project"],
            _paged(e["paged"]),
            (e["reasons"] or ["-"])[0],
        )
        for e in found
    ]
    more = answer["next_before"]
    return [
        *table(LIST_HEADERS, rows, free_text=("WHY NOT",)),
        *([f"more: --before {more}"] if more else []),
    ]


def _decision(decision: dict[str, Any]) -> str:
    """ "pd-production: sent (critical), rbtk:pool-offline:…: sent to pd-production as critical"."""
    at = f" ({decision['severity']})" if decision["severity"] else ""
    who = decision["connector"] or "no connector"
    return f"{who}: {decision['outcome']}{at}, {decision['dedup_key']}: {decision['reason']}"


def describe_event(answer: dict[str, Any]) -> list[str]:
    event = answer["event"]
    lines = fields(
        [
            ("event", f"{event['id']} ({event['type']}, project {event['project']})"),
            ("occurred", moment(event["occurred_at"])),
            ("received", moment(event["received_at"])),
            ("paged", _paged(event["paged"])),
        ]
    )
    if event["reasons"]:
        lines += ["", "why not:", *(f"  {reason}" for reason in event["reasons"])]
    if event.get("decisions"):
        lines += ["", "decisions:", *(f"  {_decision(d)}" for d in event["decisions"])]
    for incident in answer["incidents"]:
        state = incident["state"]
        if state == "pending":
            state = f"pending, pages at {moment(incident['pages_at'])}"
        elif state == "not paged":
            state = f"not paged: {incident['not_paged']}"
        lines += ["", f"incident {incident['dedup_key']}: {state}", f"  {incident['summary']}"]
        lines += [f"  {lane['connector']}: {lane['state']}" for lane in incident["connectors"]]
    rows = [
        (
            str(d["id"]),
            d["connector"] or d["channel_name"] or "-",
            d["action"] or "-",
            d["severity"] or "-",
            d["status"],
            moment(d["created_at"]),
            moment(d["last_attempt_at"]),
        )
        for d in answer["deliveries"]
    ]
    return [*lines, "", *(table(ROW_HEADERS, rows) if rows else ["no delivery"])]


def _paged(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "no"

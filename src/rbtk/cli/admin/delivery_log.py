"""What the delivery log commands share (`pd log`, `notify log`): fetching a page at a time
up to the limit, and how an answer, a status and a latency read in a table."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Annotated, Any

import typer

from rbtk.cli.remote import Output, remote
from rbtk.cli.tables import moment, table
from rbtk.outbox.status import Status

PAGE = 100

StatusFilter = Annotated[Status | None, typer.Option(help="Only deliveries in this status.")]
Since = Annotated[
    str | None, typer.Option(help="Only deliveries since this time, e.g. 2026-05-25T03:00Z.")
]
Limit = Annotated[int, typer.Option(min=1, help="Show at most this many.")]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON: 'rbtk admin --output json'.")
]


def show_log(
    ctx: typer.Context,
    path: str,
    filters: dict[str, str | None],
    *,
    limit: int,
    as_json: bool,
    headers: Sequence[str],
    row: Callable[[dict[str, Any]], tuple[str, ...]],
    page: int | None = None,
) -> None:
    """Fetch the newest `limit` deliveries matching `filters`, page by page, and show them:
    a table of `headers` with a `row` for each, or the API's JSON."""
    deliveries: list[dict[str, Any]] = []
    before_id: int | None = None
    first: dict[str, Any] = {}  # its total counts every page
    server = remote(ctx)
    if as_json:
        server = replace(server, output=Output.JSON)
    with server.api() as api:
        while len(deliveries) < limit:
            answer = api.get(
                path,
                params={
                    **filters,
                    "limit": min(page or PAGE, limit - len(deliveries)),
                    "before_id": before_id,
                },
                expect=("deliveries",),
            )
            first = first or answer
            deliveries += answer["deliveries"]
            before_id = answer.get("next_before_id")
            if before_id is None or not answer["deliveries"]:
                break

    def describe(answer: dict[str, Any]) -> list[str]:
        shown = answer["deliveries"]
        rows = [row(d) for d in shown]
        return table(headers, rows, free_text=("MESSAGE",)) if shown else ["no deliveries"]

    server.show({**first, "deliveries": deliveries, "next_before_id": before_id}, describe)


def outcome(delivery: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """STATUS, ATTEMPTS, HTTP, LATENCY and MESSAGE (with what a waiting row waits for and
    when it can go, or when it is tried next)."""
    latency = delivery.get("latency_ms")
    parts = [delivery.get("message") or "", "; ".join(delivery.get("errors") or [])]
    message = ": ".join(part for part in parts if part)
    waiting = delivery.get("waiting")
    if waiting:
        until = f"can go at {moment(waiting['until'])}" if waiting["until"] else "until it ends"
        message = f"{message} (waiting: {waiting['reason']}, {until})".lstrip()
    elif delivery["status"] in (Status.QUEUED, Status.RETRYING):
        message = f"{message} (next attempt {moment(delivery['next_attempt_at'])})".lstrip()
    return (
        delivery["status"],
        str(delivery["attempts"]),
        str(delivery["http_status"]) if delivery.get("http_status") is not None else "-",
        f"{latency:.0f} ms" if latency is not None else "-",
        message or "-",
    )

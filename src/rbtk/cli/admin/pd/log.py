"""`rbtk admin pd log`: the delivery log, newest first."""

from dataclasses import replace
from typing import Annotated, Any

import typer

from rbtk.cli.remote import Output, remote
from rbtk.cli.tables import moment, table
from rbtk.outbox.rows import Status
from rbtk.policy.state import Action

PATH = "/api/v1/pagerduty/deliveries"
PAGE = 100
HEADERS = (
    "TIME (UTC)", "CONNECTOR", "EVENT", "ACTION", "SEVERITY", "STATUS", "ATTEMPTS", "HTTP",
    "LATENCY", "DEDUP KEY", "MESSAGE",
)  # fmt: skip


def log(
    ctx: typer.Context,
    connector: Annotated[str | None, typer.Option(help="Only this connector's deliveries.")] = None,
    status: Annotated[Status | None, typer.Option(help="Only deliveries in this status.")] = None,
    dedup_key: Annotated[str | None, typer.Option(help="Only this incident's deliveries.")] = None,
    action: Annotated[Action | None, typer.Option(help="Only triggers, or only resolves.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only deliveries since this time, e.g. 2026-05-25T03:00Z.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the API's JSON: 'rbtk admin --output json'.")
    ] = False,
) -> None:
    """Show every trigger and resolve sent to PagerDuty: status, attempts, answer, latency."""
    filters = {
        "connector": connector,
        "status": status.value if status else None,
        "dedup_key": dedup_key,
        "action": action.value if action else None,
        "since": since,
    }
    deliveries: list[dict[str, Any]] = []
    before_id: int | None = None
    server = remote(ctx)
    if as_json:
        server = replace(server, output=Output.JSON)
    with server.api() as api:
        while len(deliveries) < limit:
            page = api.get(
                PATH,
                params={
                    **filters,
                    "limit": min(PAGE, limit - len(deliveries)),
                    "before_id": before_id,
                },
                expect=("deliveries",),
            )
            deliveries += page["deliveries"]
            before_id = page.get("next_before_id")
            if before_id is None or not page["deliveries"]:
                break
    server.show({"deliveries": deliveries, "next_before_id": before_id}, describe)


def describe(answer: dict[str, Any]) -> list[str]:
    deliveries = answer["deliveries"]
    if not deliveries:
        return ["no deliveries"]
    return table(HEADERS, [_row(d) for d in deliveries])


def _row(delivery: dict[str, Any]) -> tuple[str, ...]:
    latency = delivery.get("latency_ms")
    parts = [delivery.get("message") or "", "; ".join(delivery.get("errors") or [])]
    message = ": ".join(part for part in parts if part)
    if delivery["status"] in ("queued", "retrying"):
        message = f"{message} (next attempt {moment(delivery['next_attempt_at'])})".lstrip()
    return (
        moment(delivery["created_at"]),
        delivery["connector"],
        delivery.get("event_type") or "-",
        delivery["action"],
        delivery["severity"],
        delivery["status"],
        str(delivery["attempts"]),
        str(delivery["http_status"]) if delivery.get("http_status") is not None else "-",
        f"{latency:.0f} ms" if latency is not None else "-",
        delivery["dedup_key"],
        message or "-",
    )

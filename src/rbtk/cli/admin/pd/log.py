"""`rbtk admin pd log`: the delivery log, newest first."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.delivery_log import AsJson, Limit, Since, StatusFilter, outcome, show_log
from rbtk.cli.tables import moment
from rbtk.outbox.status import PagerDutyAction

PATH = "/api/v1/pagerduty/deliveries"
PAGE = 100
HEADERS = (
    "TIME (UTC)", "CONNECTOR", "EVENT", "ACTION", "SEVERITY", "STATUS", "ATTEMPTS", "HTTP",
    "LATENCY", "DEDUP KEY", "MESSAGE",
)  # fmt: skip


def log(
    ctx: typer.Context,
    connector: Annotated[str | None, typer.Option(help="Only this connector's deliveries.")] = None,
    status: StatusFilter = None,
    dedup_key: Annotated[str | None, typer.Option(help="Only this incident's deliveries.")] = None,
    dedup_prefix: Annotated[
        str | None, typer.Option(help="Only deliveries whose dedup key starts so.")
    ] = None,
    project: Annotated[str | None, typer.Option(help="Only this project's deliveries.")] = None,
    action: Annotated[
        PagerDutyAction | None,
        typer.Option(help="Only triggers, only resolves, or only release change events."),
    ] = None,
    since: Since = None,
    limit: Limit = 50,
    as_json: AsJson = False,
) -> None:
    """Show every trigger and resolve sent to PagerDuty: status, attempts, answer, latency."""
    filters = {
        "connector": connector,
        "status": status.value if status else None,
        "dedup_key": dedup_key,
        "dedup_prefix": dedup_prefix,
        "project": project,
        "action": action.value if action else None,
        "since": since,
    }
    show_log(ctx, PATH, filters, limit=limit, as_json=as_json, headers=HEADERS, row=_row, page=PAGE)


def _row(delivery: dict[str, Any]) -> tuple[str, ...]:
    status, attempts, http, latency, message = outcome(delivery)
    return (
        moment(delivery["created_at"]),
        delivery["connector"],
        delivery.get("event_type") or "-",
        delivery["action"],
        delivery["severity"],
        status,
        attempts,
        http,
        latency,
        delivery["dedup_key"],
        message,
    )

"""`rbtk admin pd incidents list`: what is firing (or pending, held, all), per connector."""

from enum import StrEnum
from typing import Annotated, Any

import typer

from rbtk.cli.remote import remote
from rbtk.cli.tables import moment, table

PATH = "/api/v1/incidents"
HEADERS = ("DEDUP KEY", "STATE", "SEVERITY", "SINCE (UTC)", "CONNECTORS")


class Show(StrEnum):
    FIRING = "firing"
    PENDING = "pending"
    HELD = "held"
    ALL = "all"


def list_incidents(
    ctx: typer.Context,
    state: Annotated[Show, typer.Option("--state", help="firing, pending, held or all.")] = (
        Show.FIRING
    ),
    connector: Annotated[
        str | None, typer.Option("--connector", metavar="NAME", help="Only this connector's.")
    ] = None,
    project: Annotated[
        str | None, typer.Option("--project", metavar="SLUG", help="Only this project's.")
    ] = None,
    rule: Annotated[
        str | None, typer.Option("--rule", metavar="RULE", help="Only this rule's.")
    ] = None,
    after: Annotated[
        str | None, typer.Option("--after", metavar="KEY", help="The page after this key.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 100,
) -> None:
    """List incidents in dedup-key order: where each went, and when a pending one pages."""
    params = {
        "state": state.value,
        "connector": connector,
        "project": project,
        "rule": rule,
        "after": after,
        "limit": limit,
    }
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(PATH, params=params, expect=("incidents", "next_after"))
    server.show(answer, lambda a: describe(a, state=state))


def describe(answer: dict[str, Any], *, state: Show) -> list[str]:
    found = answer["incidents"]
    if not found:
        return [f"no incident {'at all' if state is Show.ALL else state.value}"]
    more = answer["next_after"]
    return [*table(HEADERS, [row(i) for i in found]), *([f"more: --after {more}"] if more else [])]


def row(incident: dict[str, Any]) -> tuple[str, ...]:
    if incident["state"] == "pending":
        state = f"pending, pages at {moment(incident['pages_at'])}"
    else:
        state = incident["state"]
    lanes = ", ".join(f"{c['connector']}: {lane_state(c)}" for c in incident["connectors"])
    return (
        incident["dedup_key"],
        state,
        incident["severity"] or "-",
        moment(incident["since"]),
        lanes or "-",
    )


def lane_state(lane: dict[str, Any]) -> str:
    """A lane as a person reads it: "sent, acknowledged in PagerDuty by Alice Oncall at …"."""
    side = lane.get("pagerduty")
    if side is None:
        return str(lane["state"])
    by = f" by {side['by']}" if side["by"] else ""
    return f"{lane['state']}, {side['status']} in PagerDuty{by} at {moment(side['at'])}"

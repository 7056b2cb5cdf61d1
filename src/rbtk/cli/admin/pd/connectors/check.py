"""`rbtk admin pd connectors check NAME`: PagerDuty service health, checked for the operator."""

from typing import Any

import typer

from rbtk.cli.admin.pd.connectors.common import Name, path
from rbtk.cli.common import fail
from rbtk.cli.remote import remote

MARK = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


def check(ctx: typer.Context, name: Name) -> None:
    """Check the connector's PagerDuty service and rbtk's setup of it; exit 1 on a failure."""
    server = remote(ctx)
    with server.api() as api:
        health = api.get(f"{path(name)}/check", expect=("checks", "level"))
    server.show(health, describe)
    if health["level"] == "fail":
        raise fail(f"{name}: fix what is marked FAIL above")


def describe(health: dict[str, Any]) -> list[str]:
    service = f" (service {health['service']})" if health.get("service") else ""
    lines = [f"{health['connector']}{service}"]
    lines += [f"{MARK[c['level']]}  {c['name']}: {c['message']}" for c in health["checks"]]
    if health.get("urgency"):
        said = ", ".join(f"{severity} {urgency}" for severity, urgency in health["urgency"].items())
        lines.append(f"urgency per severity: {said}")
    return lines

"""What the connector commands share: their options, the API path, and how one is shown."""

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

import typer

from rbtk.cli.tables import fields, moment, yes_no
from rbtk.policy.rules import Rule

PATH = "/api/v1/pagerduty/connectors"
SHOWN = (  # what `describe` reads from a connector
    "name", "integration_key", "region", "endpoint", "is_default", "send_info", "change_events",
    "rules",
    "storm", "open_incidents", "created_at", "updated_at",
    "rest_key", "service_id", "repage_resolved_by_hand", "verified_at",
)  # fmt: skip


Name = Annotated[
    str, typer.Argument(metavar="NAME", help="The connector's name, e.g. pd-production.")
]
RULES = ", ".join(Rule)  # listed in the help: as the option's type, too long for 80 columns
Enable = Annotated[
    list[Rule] | None,
    typer.Option(
        "--enable", metavar="RULE", help=f"Page for this rule; repeat for several: {RULES}."
    ),
]
Disable = Annotated[
    list[Rule] | None,
    typer.Option(
        "--disable", metavar="RULE", help=f"Do not page for this rule; repeatable: {RULES}."
    ),
]

RestKey = Annotated[
    str | None,
    typer.Option(
        "--rest-key",
        metavar="KEY",
        help="A PagerDuty REST API key for reconcile (read-only is enough); '-' asks for it "
        "without echoing it, and keeps it out of the shell's history. Asked for too when "
        "--service-id is given to a connector that has none.",
    ),
]


def rest_key(given: str | None) -> str | None:
    """The key given, or asked for without echo when given as '-'."""
    if given == "-":
        asked: str = typer.prompt("PagerDuty REST API key", hide_input=True)
        return asked
    return given


def path(name: str) -> str:
    return f"{PATH}/{quote(name, safe='')}"


def toggles(enable: list[Rule] | None, disable: list[Rule] | None) -> dict[str, Any]:
    """The rule toggles given on the command line, and only those."""
    given = {
        "enable": [rule.value for rule in enable] if enable else None,
        "disable": [rule.value for rule in disable] if disable else None,
    }
    return {key: value for key, value in given.items() if value is not None}


def describe(connector: Mapping[str, Any]) -> list[str]:
    rules: Mapping[str, bool] = connector["rules"]
    last = connector.get("last_delivery")
    return fields(
        [
            ("name", connector["name"]),
            ("integration key", connector["integration_key"]),
            ("region", connector["region"]),
            ("endpoint", connector["endpoint"]),
            ("default", yes_no(connector["is_default"])),
            ("send info", yes_no(connector["send_info"])),
            ("change events", yes_no(connector["change_events"])),
            ("max severity", cap(connector.get("max_severity"))),
            ("storm collapse", storm(connector["storm"])),
            ("enabled rules", ", ".join(r for r, on in rules.items() if on) or "none"),
            ("disabled rules", ", ".join(r for r, on in rules.items() if not on) or "none"),
            ("REST API key", connector.get("rest_key") or "none (reconcile is off)"),
            ("service", connector.get("service_id") or "none"),
            ("repage by hand", yes_no(connector.get("repage_resolved_by_hand", False))),
            ("verified", verified(connector)),
            ("open incidents", str(connector["open_incidents"])),
            ("last delivery", last_delivery(last)),
            ("created", moment(connector["created_at"])),
            ("updated", moment(connector["updated_at"])),
        ]
    )


def verified(connector: Mapping[str, Any]) -> str:
    at = connector.get("verified_at")
    if not at:
        return "never end to end"
    return f"end to end {moment(at)} ({connector.get('verified_urgency') or '?'} urgency)"


def cap(max_severity: str | None) -> str:
    return max_severity or "none"


def storm(settings: Mapping[str, Any]) -> str:
    rule = f"more than {settings['threshold']} new incidents within {settings['window_s']} s"
    return f"on: {rule}" if settings["collapse"] else f"off (when on: {rule})"


def last_delivery(last: Mapping[str, Any] | None) -> str:
    return f"{last['status']} {moment(last['at'])}" if last else "never"

"""What the connector commands share: their options, the API path, and how one is shown."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

import typer

from rbtk.cli.tables import fields, moment, yes_no
from rbtk.policy.rules import Rule
from rbtk.policy.severity import Severity

PATH = "/api/v1/pagerduty/connectors"
SHOWN = (  # what `describe` reads from a connector
    "name", "integration_key", "region", "endpoint", "is_default", "send_info", "change_events",
    "rules",
    "storm", "open_incidents", "created_at", "updated_at",
    "rest_key", "service_id", "repage_resolved_by_hand", "verified_at",
)  # fmt: skip


class Region(StrEnum):
    US = "us"
    EU = "eu"


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
RegionOption = Annotated[
    Region | None, typer.Option("--region", help="PagerDuty service region: us or eu.")
]
ChangeEvents = Annotated[
    bool | None,
    typer.Option(
        "--change-events/--no-change-events",
        help="Send the releases of the projects it pages for as PagerDuty change events "
        "(never a page; on by default).",
    ),
]
SendInfo = Annotated[
    bool | None,
    typer.Option("--send-info/--no-send-info", help="Also send info-severity events."),
]
Default = Annotated[
    bool | None,
    typer.Option("--default/--no-default", help="Receive the events no routing rule names."),
]

MaxSeverity = Annotated[
    Severity | None,
    typer.Option(
        "--max-severity",
        metavar="LEVEL",
        help=f"Cap what this connector is sent ({', '.join(Severity)}), e.g. warning for a "
        "low-urgency staging service.",
    ),
]

StormCollapse = Annotated[
    bool | None,
    typer.Option(
        "--storm-collapse/--no-storm-collapse",
        help="Page a burst of new incidents as one umbrella incident (on by default).",
    ),
]
StormThreshold = Annotated[
    int | None,
    typer.Option(
        "--storm-threshold",
        metavar="N",
        help="A storm is more than N new incidents within the storm window (default 20).",
    ),
]
StormWindow = Annotated[
    int | None,
    typer.Option(
        "--storm-window",
        metavar="SECONDS",
        help="The storm window, in seconds (default 60).",
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
ServiceId = Annotated[
    str | None,
    typer.Option(
        "--service-id",
        metavar="PXXXXXX",
        help="The PagerDuty service the integration key feeds (from the service's URL).",
    ),
]
Repage = Annotated[
    bool | None,
    typer.Option(
        "--repage-resolved-by-hand/--no-repage-resolved-by-hand",
        help="Page again a lane resolved by hand in PagerDuty while it still fires "
        "(off: reconcile marks it on the incidents page).",
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


def changes(
    *,
    enable: list[Rule] | None,
    disable: list[Rule] | None,
    region: Region | None,
    send_info: bool | None,
    is_default: bool | None,
    change_events: bool | None = None,
    max_severity: Severity | None = None,
    storm_collapse: bool | None = None,
    storm_threshold: int | None = None,
    storm_window: int | None = None,
) -> dict[str, Any]:
    """The settings given on the command line, and only those: the server keeps the rest."""
    storm = {"collapse": storm_collapse, "threshold": storm_threshold, "window_s": storm_window}
    given = {
        "enable": [rule.value for rule in enable] if enable else None,
        "disable": [rule.value for rule in disable] if disable else None,
        "region": region.value if region else None,
        "send_info": send_info,
        "change_events": change_events,
        "is_default": is_default,
        "max_severity": max_severity.value if max_severity else None,
        "storm": {key: value for key, value in storm.items() if value is not None} or None,
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

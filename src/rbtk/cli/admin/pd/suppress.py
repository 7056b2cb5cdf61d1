"""`rbtk admin pd suppress`: a maintenance window holding a connector's triggers back.

    rbtk admin pd suppress --connector pd-production --until "2026-05-25T03:00Z" \\
        --reason "Maintenance"
    rbtk admin pd suppress --connector pd-production --for 4h --reason "Maintenance"
    rbtk admin pd suppress --connector pd-production --until-tomorrow 06:00 --reason "Night"
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from rbtk.cli.common import fail
from rbtk.cli.remote import remote
from rbtk.cli.tables import moment
from rbtk.runtime.timefmt import format_rfc3339, parse_rfc3339, tomorrow_at

PATH = "/api/v1/pagerduty/suppressions"
EXAMPLE = "2026-05-25T03:00Z"
_DURATION = re.compile(r"(?:\d+[dhms])+", re.ASCII)
_PART = re.compile(r"(\d+)([dhms])", re.ASCII)
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def suppress(
    ctx: typer.Context,
    reason: Annotated[
        str, typer.Option("--reason", help="Why, for the record: e.g. 'Maintenance'.")
    ],
    connector: Annotated[
        str | None, typer.Option("--connector", metavar="NAME", help="The connector to hold.")
    ] = None,
    all_connectors: Annotated[
        bool, typer.Option("--all-connectors", help="Hold every connector, one window each.")
    ] = False,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="TIME", help=f"When it ends, with a timezone: {EXAMPLE}."),
    ] = None,
    for_: Annotated[
        str | None,
        typer.Option("--for", metavar="DURATION", help="How long instead: 30m, 2h, 1d, 1h30m."),
    ] = None,
    until_tomorrow: Annotated[
        str | None,
        typer.Option(
            "--until-tomorrow",
            metavar="HH:MM",
            help="Until that time (UTC) on the day after the start: e.g. 06:00.",
        ),
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", metavar="TIME", help="When it starts; now by default."),
    ] = None,
) -> None:
    """Hold a connector's triggers back for a while; resolves still go out."""
    if (connector is None) == (not all_connectors):
        raise fail(
            "give --connector NAME or --all-connectors, not both"
            if all_connectors
            else "give the connector to hold: --connector NAME, or --all-connectors"
        )
    ends = [given for given in (until, for_, until_tomorrow) if given is not None]
    if len(ends) != 1:
        raise fail(
            "give only one of --until TIME, --for DURATION and --until-tomorrow HH:MM"
            if ends
            else f"give when the window ends: --until TIME (e.g. {EXAMPLE}), --for DURATION "
            "(e.g. 2h) or --until-tomorrow HH:MM (e.g. 06:00 UTC)"
        )
    now = datetime.now(UTC)
    starts_at = _time("--from", from_)
    if until_tomorrow is not None:
        try:
            until = format_rfc3339(tomorrow_at(until_tomorrow, starts_at or now))
        except ValueError as exc:
            raise fail(f"--until-tomorrow: {exc}") from None
    body: dict[str, Any] = {"reason": reason}
    body |= {"all_connectors": True} if all_connectors else {"connector": connector}
    if starts_at is not None:
        body["starts_at"] = format_rfc3339(starts_at)
    ends_at = _time("--until", until)
    if ends_at is not None:
        if ends_at <= now:
            raise fail(
                f"--until {until} is in the past (it is now {format_rfc3339(now)}): "
                "give a time to come"
            )
        if starts_at is not None and ends_at <= starts_at:
            raise fail(
                f"--until {until} is not after --from {from_}: a window ends after it starts"
            )
        body["ends_at"] = format_rfc3339(ends_at)
    else:
        body["duration_s"] = _duration(str(for_)).total_seconds()
    server = remote(ctx)
    with server.api() as api:
        answer = api.post(PATH, body, expect=("suppressions",))
    server.show(answer, describe)


def describe(answer: dict[str, Any]) -> list[str]:
    return [
        *(
            f"suppression window #{window['id']} on {window['connector']}: "
            f"{moment(window['starts_at'])} to {moment(window['ends_at'])} UTC, "
            f"{window['reason']}"
            for window in answer["suppressions"]
        ),
        "triggers are held back and logged as suppressed; resolves still go out; "
        "conditions still firing at the end are triggered then",
    ]


def _time(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise fail(f"{option}: {exc}") from None


def _duration(text: str) -> timedelta:
    if not _DURATION.fullmatch(text):
        raise fail(
            f"--for: {text!r} is not a duration: use a number and a unit (d, h, m or s), "
            "e.g. 30m, 2h, 1d or 1h30m"
        )
    seconds = sum(int(n) * _UNIT[unit] for n, unit in _PART.findall(text))
    if seconds == 0:
        raise fail(f"--for: {text!r} is no time at all; give a length such as 2h")
    return timedelta(seconds=seconds)

"""`rbtk admin pd connectors add NAME --key KEY`: a new PagerDuty connector."""

from typing import Annotated

import typer

from rbtk.cli.admin.pd.connectors.common import (
    PATH,
    SHOWN,
    ChangeEvents,
    Default,
    Disable,
    Enable,
    MaxSeverity,
    Name,
    RegionOption,
    SendInfo,
    StormCollapse,
    StormThreshold,
    StormWindow,
    changes,
    describe,
)
from rbtk.cli.remote import remote


def add(
    ctx: typer.Context,
    name: Name,
    key: Annotated[
        str,
        typer.Option(
            "--key",
            prompt="Integration key",
            hide_input=True,
            help="The 32-character Integration Key of a PagerDuty Events API v2 integration; "
            "asked for when left out, so it stays out of shell history.",
        ),
    ],
    enable: Enable = None,
    disable: Disable = None,
    region: RegionOption = None,
    send_info: SendInfo = None,
    change_events: ChangeEvents = None,
    is_default: Default = None,
    max_severity: MaxSeverity = None,
    storm_collapse: StormCollapse = None,
    storm_threshold: StormThreshold = None,
    storm_window: StormWindow = None,
) -> None:
    """Add a connector; rules, region and the rest take the server's defaults unless given."""
    body = {
        "name": name,
        "integration_key": key,
        **changes(
            enable=enable,
            disable=disable,
            region=region,
            send_info=send_info,
            change_events=change_events,
            is_default=is_default,
            max_severity=max_severity,
            storm_collapse=storm_collapse,
            storm_threshold=storm_threshold,
            storm_window=storm_window,
        ),
    }
    server = remote(ctx)
    with server.api() as api:
        connector = api.post(PATH, body, expect=SHOWN)
    server.show(connector, lambda c: [f"added connector {c['name']}", *describe(c)])

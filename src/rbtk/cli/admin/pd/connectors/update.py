"""`rbtk admin pd connectors update NAME ...`: change a connector's key or settings."""

from typing import Annotated

import typer

from rbtk.cli.admin.pd.connectors.common import (
    SHOWN,
    ChangeEvents,
    Default,
    Disable,
    Enable,
    MaxSeverity,
    Name,
    RegionOption,
    Repage,
    RestKey,
    SendInfo,
    ServiceId,
    StormCollapse,
    StormThreshold,
    StormWindow,
    changes,
    describe,
    path,
    rest_key,
)
from rbtk.cli.common import fail
from rbtk.cli.remote import remote


def update(
    ctx: typer.Context,
    name: Name,
    key: Annotated[
        str | None,
        typer.Option("--key", help="A new Integration Key; open incidents still resolve."),
    ] = None,
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
    no_max_severity: Annotated[
        bool, typer.Option("--no-max-severity", help="Remove the severity cap.")
    ] = False,
    rest: RestKey = None,
    no_rest_key: Annotated[
        bool, typer.Option("--no-rest-key", help="Forget the REST API key (reconcile stops).")
    ] = False,
    service_id: ServiceId = None,
    repage: Repage = None,
) -> None:
    """Change what is given; everything else stays as it is."""
    if max_severity is not None and no_max_severity:
        raise fail("give --max-severity LEVEL or --no-max-severity, not both")
    body = changes(
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
    )
    if no_max_severity:
        body["max_severity"] = None
    if rest is not None and no_rest_key:
        raise fail("give --rest-key KEY or --no-rest-key, not both")
    if rest is not None:
        body["rest_key"] = rest_key(rest)
    if no_rest_key:
        body["rest_key"] = None
    if service_id is not None:
        body["service_id"] = service_id
    if repage is not None:
        body["repage_resolved_by_hand"] = repage
    if key is not None:
        body["integration_key"] = key
    if not body:
        raise fail(
            "nothing to change: give --key, --enable, --disable, --region, "
            "--send-info/--no-send-info, --default/--no-default, "
            "--max-severity/--no-max-severity, --storm-collapse/--no-storm-collapse, "
            "--storm-threshold, --storm-window, --rest-key/--no-rest-key, --service-id or "
            "--repage-resolved-by-hand/--no-repage-resolved-by-hand"
        )
    server = remote(ctx)
    with server.api() as api:
        if service_id is not None and "rest_key" not in body:
            # Setting up reconcile: the key it reads with is asked for when none is stored.
            stored = api.get(path(name), expect=("rest_key",))
            if stored["rest_key"] is None:
                body["rest_key"] = rest_key("-")
        connector = api.patch(path(name), body, expect=SHOWN)
    server.show(connector, lambda c: [f"updated connector {c['name']}", *describe(c)])

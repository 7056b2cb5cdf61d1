"""`rbtk admin pd connectors update NAME ...`: change a connector's key or settings."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.connectors.common import (
    SHOWN,
    Disable,
    Enable,
    Name,
    RestKey,
    describe,
    path,
    rest_key,
    toggles,
)
from rbtk.cli.admin.pd.connectors.options import flags, with_settings
from rbtk.cli.common import fail
from rbtk.cli.remote import remote


@with_settings
def update(
    ctx: typer.Context,
    name: Name,
    key: Annotated[
        str | None,
        typer.Option("--key", help="A new Integration Key; open incidents still resolve."),
    ] = None,
    enable: Enable = None,
    disable: Disable = None,
    rest: RestKey = None,
    no_rest_key: Annotated[
        bool, typer.Option("--no-rest-key", help="Forget the REST API key (reconcile stops).")
    ] = False,
    *,
    settings: dict[str, Any],
) -> None:
    """Change what is given; everything else stays as it is."""
    body = {**toggles(enable, disable), **settings}
    if rest is not None and no_rest_key:
        raise fail("give --rest-key KEY or --no-rest-key, not both")
    if rest is not None:
        body["rest_key"] = rest_key(rest)
    if no_rest_key:
        body["rest_key"] = None
    if key is not None:
        body["integration_key"] = key
    if not body:
        options = ["--key", "--enable", "--disable", *flags(), "--rest-key/--no-rest-key"]
        raise fail(f"nothing to change: give {', '.join(options[:-1])} or {options[-1]}")
    server = remote(ctx)
    with server.api() as api:
        if settings.get("service_id") and "rest_key" not in body:
            # Setting up reconcile: the key it reads with is asked for when none is stored.
            stored = api.get(path(name), expect=("rest_key",))
            if stored["rest_key"] is None:
                body["rest_key"] = rest_key("-")
        connector = api.patch(path(name), body, expect=SHOWN)
    server.show(connector, lambda c: [f"updated connector {c['name']}", *describe(c)])

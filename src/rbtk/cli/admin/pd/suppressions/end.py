"""`rbtk admin pd suppressions end ID`: end a suppression window now."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.suppress import PATH
from rbtk.cli.remote import remote
from rbtk.cli.tables import moment


def end(
    ctx: typer.Context,
    window_id: Annotated[
        int, typer.Argument(metavar="ID", min=1, help="The window's id, from 'suppressions list'.")
    ],
) -> None:
    """End a window early: conditions still firing whose triggers it held are sent now."""
    server = remote(ctx)
    with server.api() as api:
        window = api.post(f"{PATH}/{window_id}/end", {}, expect=("id", "connector", "ends_at"))
    server.show(window, describe)


def describe(window: dict[str, Any]) -> list[str]:
    by = f" by {window['ended_by']}" if window.get("ended_by") else ""
    return [
        f"ended suppression window #{window['id']} on {window['connector']} at "
        f"{moment(window['ends_at'])} UTC{by}: held-back triggers of conditions still firing "
        "are sent now"
    ]

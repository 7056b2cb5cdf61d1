"""`rbtk admin pd suppressions list`: suppression windows, active and scheduled ones first."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.suppress import PATH
from rbtk.cli.remote import remote
from rbtk.cli.tables import moment, table

HEADERS = ("ID", "CONNECTOR", "STATE", "STARTS (UTC)", "ENDS (UTC)", "BY", "REASON")


def list_windows(
    ctx: typer.Context,
    connector: Annotated[
        str | None, typer.Option("--connector", metavar="NAME", help="Only this connector's.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Ended windows too.")] = False,
) -> None:
    """List the windows active or to come (with --all, ended ones too)."""
    params = {"connector": connector, "include_ended": "true" if all_ else None}
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(PATH, params=params, expect=("suppressions",))
    server.show(answer, lambda a: describe(a, connector=connector, all_=all_))


def describe(answer: dict[str, Any], *, connector: str | None, all_: bool) -> list[str]:
    windows = answer["suppressions"]
    if not windows:
        which = "suppression windows" if all_ else "active or scheduled suppression windows"
        where = f" on {connector}" if connector else ""
        hint = "" if all_ else " (--all shows ended ones too)"
        return [f"no {which}{where}{hint}"]
    return table(HEADERS, [_row(w) for w in windows], free_text=("REASON",))


def _row(window: dict[str, Any]) -> tuple[str, ...]:
    state = ended_early(window) or window["state"]
    return (
        str(window["id"]),
        window["connector"],
        state,
        moment(window["starts_at"]),
        moment(window["ends_at"]),
        window["created_by"],
        window["reason"],
    )


def ended_early(window: dict[str, Any]) -> str | None:
    """ "ended early at 02:14 by alice" (UTC), or None for a window that was not."""
    at = window.get("ended_early_at")
    if not at:
        return None
    by = f" by {window['ended_by']}" if window.get("ended_by") else ""
    return f"ended early at {moment(at)[11:16]}{by}"

"""`rbtk admin pd suppressions list`: suppression windows, active and scheduled ones first."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.suppress import PATH
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.cli.tables import moment, table

HEADERS = ("ID", "CONNECTOR", "STATE", "STARTS (UTC)", "ENDS (UTC)", "BY", "REASON")


def list_windows(
    connector: Annotated[
        str | None, typer.Option("--connector", metavar="NAME", help="Only this connector's.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Ended windows too.")] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """List the windows active or to come (with --all, ended ones too)."""
    params = {"connector": connector, "include_ended": "true" if all_ else None}
    with Api(url, token) as api:
        windows = api.get(PATH, params=params, expect=("suppressions",))["suppressions"]
    if not windows:
        which = "suppression windows" if all_ else "active or scheduled suppression windows"
        where = f" on {connector}" if connector else ""
        hint = "" if all_ else " (--all shows ended ones too)"
        typer.echo(f"no {which}{where}{hint}")
        return
    typer.echo("\n".join(table(HEADERS, [_row(w) for w in windows])))


def _row(window: dict[str, Any]) -> tuple[str, ...]:
    state = "ended early" if window.get("ended_early_at") else window["state"]
    return (
        str(window["id"]),
        window["connector"],
        state,
        moment(window["starts_at"]),
        moment(window["ends_at"]),
        window["created_by"],
        window["reason"],
    )

"""`rbtk admin pd suppressions end ID`: end a suppression window now."""

from typing import Annotated

import typer

from rbtk.cli.admin.pd.suppress import PATH
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.cli.tables import moment


def end(
    window_id: Annotated[
        int, typer.Argument(metavar="ID", min=1, help="The window's id, from 'suppressions list'.")
    ],
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """End a window early: conditions still firing whose triggers it held are sent now."""
    with Api(url, token) as api:
        window = api.post(f"{PATH}/{window_id}/end", {}, expect=("id", "connector", "ends_at"))
    typer.echo(
        f"ended suppression window #{window['id']} on {window['connector']} at "
        f"{moment(window['ends_at'])} UTC: held-back triggers of conditions still firing "
        "are sent now"
    )

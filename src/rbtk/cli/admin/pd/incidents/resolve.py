"""`rbtk admin pd incidents resolve KEY`: resolve an incident by hand."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.incidents.list import PATH
from rbtk.cli.remote import remote


def resolve(
    ctx: typer.Context,
    dedup_key: Annotated[str, typer.Argument(metavar="KEY", help="The incident's dedup key.")],
) -> None:
    """Resolve an incident that never clears by itself (a standard amendment) or that you
    know is over: the resolve goes wherever its trigger went, and rbtk records who."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.post(
            f"{PATH}/resolve", {"dedup_key": dedup_key}, expect=("incident", "resolves")
        )
    server.show(answer, describe)


def describe(answer: dict[str, Any]) -> list[str]:
    key, count = answer["incident"]["dedup_key"], answer["resolves"]
    if not count:
        return [f"resolved {key}: it had reached no connector, so no resolve is sent"]
    plural = "connector" if count == 1 else "connectors"
    return [f"resolved {key}: a resolve is on its way to {count} {plural}"]

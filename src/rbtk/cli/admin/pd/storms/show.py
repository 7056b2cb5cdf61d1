"""`rbtk admin pd storms show ID`: one storm and the members it held."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.storms.list import PATH
from rbtk.cli.remote import remote
from rbtk.cli.tables import fields, moment, table

HEADERS = ("DELIVERY", "DEDUP KEY", "SEVERITY", "HELD AT (UTC)", "NOW")


def show(
    ctx: typer.Context,
    storm_id: Annotated[int, typer.Argument(metavar="ID", help="The storm's id.", min=1)],
    after_id: Annotated[
        int | None,
        typer.Option("--after-id", metavar="ID", help="Members after this delivery id."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 200,
) -> None:
    """Show a storm, then its members in the order it held them."""
    server = remote(ctx)
    with server.api() as api:
        answer = api.get(
            f"{PATH}/{storm_id}",
            params={"after_id": after_id, "limit": limit},
            expect=("storm", "members", "next_after_id"),
        )
    server.show(answer, describe)


def describe(answer: dict[str, Any]) -> list[str]:
    storm, members = answer["storm"], answer["members"]
    lines = fields(
        [
            ("storm", f"#{storm['id']} on {storm['connector']} ({storm['state']})"),
            ("umbrella", f"{storm['dedup_key']}: {storm['summary'] or 'not sent yet'}"),
            ("started", moment(storm["started_at"])),
            ("ended", moment(storm["ended_at"])),
            ("members", f"{storm['members']:,} held in all, {storm['held']:,} held now"),
        ]
    )
    if not members:
        return [*lines, "no member"]
    rows = [
        (str(m["delivery_id"]), m["dedup_key"], m["severity"], moment(m["held_at"]), m["state"])
        for m in members
    ]
    more = answer["next_after_id"]
    tail = [f"more: --after-id {more}"] if more else []
    return [*lines, "", *table(HEADERS, rows), *tail]

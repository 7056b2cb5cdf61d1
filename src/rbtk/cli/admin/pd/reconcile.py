"""`rbtk admin pd reconcile --connector NAME [--dry-run]`: compare what PagerDuty has open
with rbtk's lanes and settle it; `--resolve-unknown KEY` resolves an incident it listed."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.connectors.common import path
from rbtk.cli.common import fail
from rbtk.cli.remote import remote
from rbtk.cli.tables import fields

SUMMARY = ("found", "fixed", "left", "resent", "repaged", "by_hand", "unknown")


def reconcile(
    ctx: typer.Context,
    connector: Annotated[str, typer.Option("--connector", help="The connector to reconcile.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what it would do; send and mark nothing.")
    ] = False,
    resolve_unknown: Annotated[
        str | None,
        typer.Option(
            "--resolve-unknown",
            metavar="KEY",
            help="Resolve an incident the last pass listed as unknown to rbtk, by its key.",
        ),
    ] = None,
) -> None:
    """Run a reconcile pass now; exit 1 when PagerDuty's REST API could not be read."""
    server = remote(ctx)
    if resolve_unknown is not None:
        with server.api() as api:
            answer = api.post(
                f"{path(connector)}/reconcile/resolve",
                {"dedup_key": resolve_unknown},
                expect=("delivery_id",),
            )
        server.show(
            answer, lambda a: [f"resolve queued: delivery #{a['delivery_id']} ({resolve_unknown})"]
        )
        return
    with server.api() as api:
        status, answer = api.answer(
            "POST",
            f"{path(connector)}/reconcile",
            body={"dry_run": dry_run},
            expect=SUMMARY,
            allow=(502,),
        )
    if status != 200:
        raise fail(answer["detail"])
    server.show(answer, describe)


def describe(summary: dict[str, Any]) -> list[str]:
    would = "would " if summary["dry_run"] else ""
    lines = fields(
        [
            ("connector", summary["connector"]),
            ("open in PagerDuty", str(summary["checked"])),
            ("found", str(summary["found"])),
            ("fixed", str(summary["fixed"])),
            ("left", str(summary["left"])),
        ]
    )
    lines += [f"{would}send the resolve again: {key}" for key in summary["resent"]]
    lines += [f"{would}page again (resolved by hand): {key}" for key in summary["repaged"]]
    lines += [
        f"resolved in PagerDuty by hand, still firing here: {key}" for key in summary["by_hand"]
    ]
    for unknown in summary["unknown"]:
        lines.append(
            f"unknown to rbtk: {unknown['dedup_key']} (incident {unknown['id']}: "
            f"{unknown['title']}); resolve it with --resolve-unknown {unknown['dedup_key']}"
        )
    if not summary["found"]:
        lines.append("rbtk and PagerDuty agree")
    return lines

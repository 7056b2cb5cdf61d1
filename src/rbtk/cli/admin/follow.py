"""Following a test send that the API answered with 202 (queued, not answered yet): the
command reads its row in the delivery log again until it is sent or failed, or `--wait`
runs out. The request itself never waits for the peer, so a slow, hung or rate-limited one
cannot time out the CLI's connection to rbtk."""

import time
from typing import Annotated, Any

import typer

from rbtk.cli.client import Api

POLL_S = 0.25
OVER = ("sent", "failed", "suppressed")  # a row that will not change any more

Wait = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="How long to follow a test send not answered at once before giving up.",
    ),
]


def follow(api: Api, path: str, row: dict[str, Any], *, wait_s: float) -> dict[str, Any]:
    """The row at `path` (`.../deliveries/{id}`) once it is over, or as it is after `wait_s`;
    `row` is what the 202 said. Says on stderr what it waits for, once."""
    typer.echo(f"waiting: {row['detail']}", err=True)
    deadline = time.monotonic() + wait_s
    while row["status"] not in OVER and time.monotonic() < deadline:
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
        row = {**row, **api.get(path, expect=("status",))}
    return {key: value for key, value in row.items() if key != "detail"}


def settled(row: dict[str, Any], *, said: str, what: str, wait_s: float) -> tuple[int, Any]:
    """A followed row as the POST answers one that is over: 200 and the row when sent, else
    502's shape, the row as `outcome` and one line saying what became of it (`said`: the
    row's status and answer in words; `what`: "test event")."""
    if row["status"] == "sent":
        return 200, row
    if row["status"] in OVER:
        detail = f"the {what} was not delivered: {said}"
    else:  # still queued or retrying: it stays in the log, and rbtk keeps at it
        detail = (
            f"no outcome within {wait_s:g} s: the {what} is still {said}; rbtk keeps trying "
            f"(delivery {row['delivery_id']} in the delivery log)"
        )
    return 502, {"detail": detail, "outcome": row}

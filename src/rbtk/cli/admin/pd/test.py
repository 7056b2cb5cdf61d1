"""`rbtk admin pd test --connector NAME`: send a test trigger and say what PagerDuty answered."""

from typing import Annotated, Any

import typer

from rbtk.cli.admin.pd.connectors.common import path
from rbtk.cli.client import DEFAULT_URL, Api, Token, Url
from rbtk.cli.common import fail
from rbtk.cli.tables import fields, moment

OUTCOME = ("dedup_key", "status")


def send_test_event(
    connector: Annotated[str, typer.Option("--connector", help="The connector to test.")],
    resolve_after: Annotated[
        int | None,
        typer.Option(
            "--resolve-after",
            min=1,
            metavar="SECONDS",
            help="Have rbtk resolve the test incident after this long; else resolve it by hand.",
        ),
    ] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
) -> None:
    """Send a test trigger through a connector now; exit 1 unless PagerDuty accepted it."""
    body = {} if resolve_after is None else {"resolve_after_s": resolve_after}
    with Api(url, token) as api:
        # 502 and 504 carry the outcome too: show it, then say what went wrong.
        status, answer = api.answer(
            "POST", f"{path(connector)}/test", body=body, expect=OUTCOME, allow=(502, 504)
        )
    outcome = answer if status == 200 else answer.get("outcome")
    if isinstance(outcome, dict) and all(key in outcome for key in OUTCOME):
        lines = fields([("dedup key", outcome["dedup_key"]), ("outcome", _said(outcome))])
        typer.echo("\n".join(lines))
    if status != 200:
        raise fail(answer["detail"])
    resolve = outcome.get("resolve")
    if resolve:
        typer.echo(f"rbtk resolves it at {moment(resolve['at'])} UTC")
    else:
        typer.echo("resolve the test incident in PagerDuty by hand")


def _said(outcome: dict[str, Any]) -> str:
    """`sent (HTTP 202, Event processed, 12 ms)`: the status and PagerDuty's answer."""
    answer = [f"HTTP {outcome['http_status']}"] if outcome.get("http_status") else []
    if outcome.get("message"):
        answer.append(str(outcome["message"]))
    answer += [str(error) for error in outcome.get("errors") or []]
    if outcome.get("latency_ms") is not None:
        answer.append(f"{outcome['latency_ms']:.0f} ms")
    return f"{outcome['status']} ({', '.join(answer)})" if answer else str(outcome["status"])

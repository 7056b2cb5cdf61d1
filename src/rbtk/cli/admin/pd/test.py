"""`rbtk admin pd test --connector NAME [--severity S]`: send a test trigger and say what
PagerDuty answered; `--resolve KEY` resolves a test incident now. A send not answered at once
(202: behind the rate budget, PagerDuty slow or down) is followed until it is sent or failed,
at most `--wait` seconds (rbtk.cli.admin.follow)."""

import shlex
from typing import Annotated, Any

import typer

from rbtk.cli.admin.follow import Wait, follow, settled
from rbtk.cli.admin.pd.connectors.common import path
from rbtk.cli.common import fail
from rbtk.cli.remote import remote
from rbtk.cli.tables import fields, moment
from rbtk.policy.severity import Severity

OUTCOME = ("dedup_key", "status")


def send_test_event(
    ctx: typer.Context,
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
    severity: Annotated[
        Severity,
        typer.Option(
            "--severity",
            help="The test's severity: critical or error page with high urgency, end to end.",
        ),
    ] = Severity.INFO,
    resolve: Annotated[
        str | None,
        typer.Option(
            "--resolve",
            metavar="KEY",
            help="Resolve the test incident with this dedup key now, instead of sending one.",
        ),
    ] = None,
    wait: Wait = 60.0,
) -> None:
    """Send a test trigger through a connector now; exit 1 unless PagerDuty accepted it."""
    body: dict[str, object]
    if resolve is not None:
        where, body = f"{path(connector)}/test/resolve", {"dedup_key": resolve}
    else:
        where = f"{path(connector)}/test"
        body = {"severity": severity.value}
        if resolve_after is not None:
            body["resolve_after_s"] = resolve_after
    server = remote(ctx)
    with server.api() as api:
        # 502 carries the outcome too: show it, then say what went wrong.
        status, answer = api.answer("POST", where, body=body, expect=OUTCOME, allow=(502,))
        if status == 202:
            where = f"/api/v1/pagerduty/deliveries/{answer['delivery_id']}"
            row = follow(api, where, answer, wait_s=wait)
            status, answer = settled(row, said=_said(row), what="test event", wait_s=wait)
    if resolve is not None:
        server.show(answer, lambda a: [f"resolved: {_said(a)}"] if status == 200 else [])
    else:
        server.show(answer, lambda a: describe(a, sent=status == 200, connector=connector))
    if status != 200:
        raise fail(answer["detail"])


def describe(answer: dict[str, Any], *, sent: bool, connector: str) -> list[str]:
    """The outcome, and who resolves the incident if PagerDuty accepted it: rbtk when asked
    to, else the user, given the command that does it."""
    outcome = answer if sent else answer.get("outcome")
    lines: list[str] = []
    if isinstance(outcome, dict) and all(key in outcome for key in OUTCOME):
        lines += fields([("dedup key", outcome["dedup_key"]), ("outcome", _said(outcome))])
    verification = answer.get("verification") if sent else None
    if verification:
        said = verification["message"]
        lines.append(said if verification["ok"] else f"not verified: {said}")
    if sent:
        resolve = answer.get("resolve")
        if resolve:
            lines.append(f"rbtk resolves it at {moment(resolve['at'])} UTC")
        else:
            command = ["rbtk", "admin", "pd", "test", "--connector", connector]
            resolve_now = shlex.join([*command, "--resolve", answer["dedup_key"]])
            lines.append(f"resolve the test incident with: {resolve_now}")
    return lines


def _said(outcome: dict[str, Any]) -> str:
    """`sent (HTTP 202, Event processed, 12 ms)`: the status and PagerDuty's answer."""
    answer = [f"HTTP {outcome['http_status']}"] if outcome.get("http_status") else []
    if outcome.get("message"):
        answer.append(str(outcome["message"]))
    answer += [str(error) for error in outcome.get("errors") or []]
    if outcome.get("latency_ms") is not None:
        answer.append(f"{outcome['latency_ms']:.0f} ms")
    return f"{outcome['status']} ({', '.join(answer)})" if answer else str(outcome["status"])

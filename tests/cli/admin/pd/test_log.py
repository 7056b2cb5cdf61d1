"""`rbtk admin pd log`: the delivery log as a table, newest first, or the API's JSON."""

import json
from typing import Any

import httpx
import pytest

from rbtk.cli.admin.pd import log
from tests.cli.conftest import Rbtk, add_connector, shown

HEADER = (
    "TIME (UTC)           CONNECTOR      EVENT  ACTION   SEVERITY  STATUS  ATTEMPTS  HTTP  "
    "LATENCY  DEDUP KEY                             MESSAGE\n"
)


@pytest.fixture
def tested(api: httpx.Client) -> list[dict[str, Any]]:
    """Two test events sent through pd-production, the second with a resolve due in 10 min."""
    add_connector(api, "pd-production")
    path = "/api/v1/pagerduty/connectors/pd-production/test"
    assert api.post(path, json={}).status_code == 200
    assert api.post(path, json={"resolve_after_s": 600}).status_code == 200
    rows: list[dict[str, Any]] = api.get("/api/v1/pagerduty/deliveries").json()["deliveries"]
    return rows


def line(row: dict[str, Any]) -> str:
    """A sent test trigger, as the table shows it."""
    latency = f"{row['latency_ms']:.0f} ms"
    return (
        f"{shown(row['created_at'])}  pd-production  -      trigger  info      sent    "
        f"1         202   {latency:<7}  {row['dedup_key']}  Event processed\n"
    )


def test_it_shows_every_delivery_newest_first(rbtk: Rbtk, tested: list[dict[str, Any]]) -> None:
    resolve, second, first = tested

    result = rbtk("admin", "pd", "log")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        HEADER
        + f"{shown(resolve['created_at'])}  pd-production  -      resolve  info      queued  "
        f"0         -     -        {resolve['dedup_key']}  "
        f"(waiting: scheduled, can go at {shown(resolve['next_attempt_at'])})\n"
        + line(second)
        + line(first)
    )


def test_json_prints_the_apis_answer(
    rbtk: Rbtk, api: httpx.Client, tested: list[dict[str, Any]]
) -> None:
    result = rbtk("admin", "pd", "log", "--json")

    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == api.get("/api/v1/pagerduty/deliveries").json()


def test_it_filters_by_status_and_dedup_key(rbtk: Rbtk, tested: list[dict[str, Any]]) -> None:
    first = tested[2]

    result = rbtk("admin", "pd", "log", "--status", "sent", "--dedup-key", first["dedup_key"])

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == HEADER + line(first)


def test_it_filters_by_connector_and_action(
    rbtk: Rbtk, api: httpx.Client, tested: list[dict[str, Any]]
) -> None:
    add_connector(api, "pd-staging")

    other = rbtk("admin", "pd", "log", "--connector", "pd-staging")
    triggers = rbtk("admin", "pd", "log", "--connector", "pd-production", "--action", "trigger")

    assert (other.exit_code, other.stdout, other.stderr) == (0, "no deliveries\n", "")
    assert (triggers.exit_code, triggers.stderr) == (0, "")
    assert triggers.stdout == HEADER + line(tested[1]) + line(tested[2])


def test_it_filters_by_dedup_key_prefix_and_project(
    rbtk: Rbtk, tested: list[dict[str, Any]]
) -> None:
    started = rbtk("admin", "pd", "log", "--dedup-prefix", "rbtk:test:", "--status", "sent")
    of_a_project = rbtk("admin", "pd", "log", "--project", "warehouse")

    assert (started.exit_code, started.stderr) == (0, "")
    assert started.stdout == HEADER + line(tested[1]) + line(tested[2])
    assert (of_a_project.exit_code, of_a_project.stdout) == (0, "no deliveries\n")


def test_limit_shows_only_the_newest(rbtk: Rbtk, tested: list[dict[str, Any]]) -> None:
    result = rbtk("admin", "pd", "log", "--status", "sent", "--limit", "1")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == HEADER + line(tested[1])


def test_a_limit_above_one_page_is_fetched_page_by_page(
    rbtk: Rbtk, tested: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log, "PAGE", 1)

    result = rbtk("admin", "pd", "log", "--status", "sent", "--limit", "5", "--json")

    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "deliveries": tested[1:],
        "next_before_id": None,
        "next_after_id": None,
        "total": 2,
        "total_is_lower_bound": False,
    }


def test_an_empty_log_says_so(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "log")

    assert (result.exit_code, result.stdout, result.stderr) == (0, "no deliveries\n", "")


def test_a_since_that_is_not_a_time_is_refused_with_the_servers_message(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "log", "--since", "yesterday")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: since: 'yesterday' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z\n"
    )


def test_an_events_token_may_not_read_the_log(rbtk: Rbtk, events_token: str) -> None:
    result = rbtk.with_token(events_token)("admin", "pd", "log")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: the token may not do this (this token may only post events): "
        "create one with 'rbtk tokens create --scope admin'\n"
    )


def test_on_an_80_column_terminal_each_delivery_is_a_block_with_its_key_whole(
    rbtk: Rbtk, tested: list[dict[str, Any]]
) -> None:
    first = tested[2]

    result = rbtk("admin", "pd", "log", "--dedup-key", first["dedup_key"], env={"COLUMNS": "80"})

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"TIME (UTC): {shown(first['created_at'])}\n"
        "CONNECTOR:  pd-production\n"
        "EVENT:      -\n"
        "ACTION:     trigger\n"
        "SEVERITY:   info\n"
        "STATUS:     sent\n"
        "ATTEMPTS:   1\n"
        "HTTP:       202\n"
        f"LATENCY:    {first['latency_ms']:.0f} ms\n"
        f"DEDUP KEY:  {first['dedup_key']}\n"
        "MESSAGE:    Event processed\n"
    )


def test_on_a_narrower_terminal_only_the_longest_message_is_shortened(
    rbtk: Rbtk, tested: list[dict[str, Any]]
) -> None:
    header, waiting, *sent = rbtk("admin", "pd", "log").stdout.splitlines()
    width = len(waiting) - 5

    result = rbtk("admin", "pd", "log", env={"COLUMNS": str(width)})

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [header, waiting[: width - 1] + "…", *sent]

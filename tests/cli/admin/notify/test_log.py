"""`rbtk admin notify log`: the chat channels' delivery log as a table, or the API's JSON."""

import json
from typing import Any

import httpx
import pytest

from tests.cli.admin.notify.test_test import Receiver, receiver  # noqa: F401 (a fixture)
from tests.cli.conftest import Rbtk, add_connector, shown

PATH = "/api/v1/notify/deliveries"


@pytest.fixture
def tested(api: httpx.Client, receiver: Receiver) -> list[dict[str, Any]]:  # noqa: F811
    """Two test messages to the Slack channel pd-production, named like a PagerDuty connector
    that sent a test event too."""
    add_connector(api, "pd-production")
    assert api.post("/api/v1/pagerduty/connectors/pd-production/test", json={}).status_code == 200
    answer = api.post(
        "/api/v1/notify/channels",
        json={"name": "pd-production", "kind": "slack", "webhook_url": receiver.url},
    )
    assert answer.status_code == 201, answer.text
    for _ in range(2):
        assert api.post("/api/v1/notify/channels/pd-production/test").status_code == 200
    rows: list[dict[str, Any]] = api.get(PATH).json()["deliveries"]
    return rows


def header(width: int) -> str:
    return (
        f"TIME (UTC)           CHANNEL        KIND   EVENT      STATUS  ATTEMPTS  HTTP  "
        f"LATENCY  {'DEDUP KEY':<{width}}  MESSAGE\n"
    )


def line(row: dict[str, Any], width: int) -> str:
    latency = f"{row['latency_ms']:.0f} ms"
    return (
        f"{shown(row['created_at'])}  pd-production  slack  rbtk.test  sent    1         200   "
        f"{latency:<7}  {row['dedup_key']:<{width}}  ok\n"
    )


def test_it_shows_only_chat_deliveries_newest_first(
    rbtk: Rbtk, tested: list[dict[str, Any]]
) -> None:
    second, first = tested
    width = max(len(second["dedup_key"]), len(first["dedup_key"]))

    result = rbtk("admin", "notify", "log")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == header(width) + line(second, width) + line(first, width)


def test_json_prints_the_apis_answer(
    rbtk: Rbtk, api: httpx.Client, tested: list[dict[str, Any]]
) -> None:
    result = rbtk("admin", "notify", "log", "--json")

    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == api.get(PATH).json()
    assert [(d["channel"], d["connector"]) for d in json.loads(result.stdout)["deliveries"]] == [
        ("slack", None),
        ("slack", None),
    ]


def test_it_filters_by_channel_kind_status_dedup_key_and_limit(
    rbtk: Rbtk, tested: list[dict[str, Any]]
) -> None:
    second, first = tested

    newest = rbtk("admin", "notify", "log", "--channel", "pd-production", "--status", "sent",
                  "--kind", "slack", "--limit", "1")  # fmt: skip
    by_key = rbtk("admin", "notify", "log", "--dedup-key", first["dedup_key"])
    webhooks = rbtk("admin", "notify", "log", "--kind", "webhook")
    other = rbtk("admin", "notify", "log", "--channel", "ops-slack")

    width = len(second["dedup_key"])
    assert (newest.exit_code, newest.stdout) == (0, header(width) + line(second, width))
    width = len(first["dedup_key"])
    assert (by_key.exit_code, by_key.stdout) == (0, header(width) + line(first, width))
    assert (webhooks.exit_code, webhooks.stdout) == (0, "no deliveries\n")
    assert (other.exit_code, other.stdout) == (0, "no deliveries\n")


def test_the_pagerduty_log_does_not_show_a_chat_channel_named_like_a_connector(
    rbtk: Rbtk, tested: list[dict[str, Any]]
) -> None:
    result = rbtk("admin", "pd", "log", "--json")

    assert [d["channel"] for d in json.loads(result.stdout)["deliveries"]] == ["pagerduty"]


def test_an_unknown_kind_is_refused_naming_the_kinds(rbtk: Rbtk) -> None:
    result = rbtk("admin", "notify", "log", "--kind", "teams")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "error: --kind must be one of slack, email, webhook, got 'teams'\n"


def test_an_empty_log_says_so(rbtk: Rbtk) -> None:
    result = rbtk("admin", "notify", "log")

    assert (result.exit_code, result.stdout, result.stderr) == (0, "no deliveries\n", "")

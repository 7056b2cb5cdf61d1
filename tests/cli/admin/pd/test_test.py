"""`rbtk admin pd test --connector NAME`: a test trigger, and what PagerDuty answered."""

import json
from typing import Any

import httpx

from rbtk.context import Context
from tests.cli.conftest import Rbtk, add_connector, shown
from tests.conftest import production_test_send_wait
from tests.waiting import wait_for


def deliveries(api: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    answer = api.get("/api/v1/pagerduty/deliveries", params=filters).json()
    return list(answer["deliveries"])


def test_it_sends_a_trigger_and_prints_its_dedup_key_and_pagerdutys_answer(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client
) -> None:
    add_connector(api, "pd-production")

    result = rbtk("admin", "pd", "test", "--connector", "pd-production")

    [alert] = pd.get("/_inspect/alerts").json()["alerts"]
    [trigger] = deliveries(api, dedup_key=alert["dedup_key"])
    assert alert["dedup_key"].startswith("rbtk:test:pd-production:")
    assert alert["status"] == "triggered"
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"dedup key: {alert['dedup_key']}\n"
        f"outcome:   sent (HTTP 202, Event processed, {trigger['latency_ms']:.0f} ms)\n"
        "resolve the test incident with: rbtk admin pd test --connector pd-production "
        f"--resolve {alert['dedup_key']}\n"
    )


def test_with_resolve_after_rbtk_resolves_the_test_incident_itself(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client
) -> None:
    add_connector(api, "pd-production")

    result = rbtk("admin", "pd", "test", "--connector", "pd-production", "--resolve-after", "1")

    [alert] = pd.get("/_inspect/alerts").json()["alerts"]
    resolve, trigger = deliveries(api, dedup_key=alert["dedup_key"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"dedup key: {alert['dedup_key']}\n"
        f"outcome:   sent (HTTP 202, Event processed, {trigger['latency_ms']:.0f} ms)\n"
        f"rbtk resolves it at {shown(resolve['next_attempt_at'])} UTC\n"
    )
    wait_for(
        lambda: pd.get("/_inspect/alerts", params={"status": "resolved"}).json()["alerts"],
        what="the test incident to be resolved",
    )


def test_a_critical_test_then_resolve_now(rbtk: Rbtk, api: httpx.Client, pd: httpx.Client) -> None:
    add_connector(api, "pd-production")

    sent = rbtk("admin", "pd", "test", "--connector", "pd-production", "--severity", "critical")
    [alert] = pd.get("/_inspect/alerts").json()["alerts"]
    resolved = rbtk(
        "admin", "pd", "test", "--connector", "pd-production", "--resolve", alert["dedup_key"]
    )
    [resolve, _] = deliveries(api, dedup_key=alert["dedup_key"])

    assert (sent.exit_code, alert["severity"]) == (0, "critical")
    assert (resolved.exit_code, resolved.stderr) == (0, "")
    assert resolved.stdout == (
        f"resolved: sent (HTTP 202, Event processed, {resolve['latency_ms']:.0f} ms)\n"
    )
    [closed] = pd.get("/_inspect/alerts", params={"status": "resolved"}).json()["alerts"]
    assert closed["dedup_key"] == alert["dedup_key"]


def test_a_test_event_pagerduty_is_slow_to_answer_is_followed_until_it_is_sent(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client, context: Context
) -> None:
    production_test_send_wait(context)
    add_connector(api, "pd-production")
    # Slower than the request waits (RBTK_TEST_SEND_WAIT_S), quicker than PagerDuty's timeout.
    pd.put("/_control/faults", json={"latency_ms": 1_000}).raise_for_status()

    result = rbtk("admin", "pd", "test", "--connector", "pd-production", "--wait", "20")

    [alert] = pd.get("/_inspect/alerts").json()["alerts"]
    [trigger] = deliveries(api, dedup_key=alert["dedup_key"])
    assert (result.exit_code, trigger["status"]) == (0, "sent")
    assert result.stderr == (
        "waiting: the test event is queued: PagerDuty has not answered yet; it is sent when "
        "delivery gets to it (see the delivery log)\n"
    )
    assert result.stdout == (
        f"dedup key: {alert['dedup_key']}\n"
        f"outcome:   sent (HTTP 202, Event processed, {trigger['latency_ms']:.0f} ms)\n"
        "resolve the test incident with: rbtk admin pd test --connector pd-production "
        f"--resolve {alert['dedup_key']}\n"
    )


def test_when_pagerduty_keeps_failing_it_follows_until_the_wait_and_exits_1(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client
) -> None:
    add_connector(api, "pd-production")
    pd.put("/_control/faults", json={"error_rate": 1.0}).raise_for_status()

    result = rbtk("admin", "pd", "test", "--connector", "pd-production", "--wait", "0.5")

    [request, *_] = pd.get("/_inspect/requests").json()["requests"]
    [trigger] = deliveries(api, dedup_key=request["body"]["dedup_key"])
    said = (
        f"retrying (HTTP 500, Injected by the emulator's error_rate fault., "
        f"{trigger['latency_ms']:.0f} ms)"
    )
    assert result.exit_code == 1
    assert result.stdout == f"dedup key: {trigger['dedup_key']}\noutcome:   {said}\n"
    assert result.stderr.splitlines() == [
        "waiting: PagerDuty answered HTTP 500: Injected by the emulator's error_rate fault.; "
        "rbtk keeps retrying the test event",
        f"error: no outcome within 0.5 s: the test event is still {said}; rbtk keeps trying "
        f"(delivery {trigger['id']} in the delivery log)",
    ]


def test_a_test_event_pagerduty_refuses_is_shown_and_exits_1(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client
) -> None:
    add_connector(api, "pd-production")
    pd.put("/_control/faults", json={"reject_next": 1}).raise_for_status()

    result = rbtk("admin", "pd", "test", "--connector", "pd-production")

    [request] = pd.get("/_inspect/requests").json()["requests"]
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"dedup key: {request['body']['dedup_key']}"
    assert result.stderr.startswith("error: PagerDuty refused the test event (HTTP 400)")


def test_an_unknown_connector_is_one_line_and_exit_1(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "test", "--connector", "pd-nope")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "error: no connector named 'pd-nope'\n"


def test_an_unreachable_server_is_one_line_and_exit_1(rbtk: Rbtk) -> None:
    result = rbtk.at("http://127.0.0.1:9")("admin", "pd", "test", "--connector", "pd-production")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: cannot reach rbtk at http://127.0.0.1:9: [Errno 111] Connection refused\n"
    )


def test_with_output_json_a_failure_prints_the_apis_answer_and_the_error_apart(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client
) -> None:
    add_connector(api, "pd-production")
    pd.put("/_control/faults", json={"error_rate": 1.0}).raise_for_status()

    result = rbtk(
        "admin", "--output", "json", "pd", "test", "--connector", "pd-production", "--wait", "0"
    )

    [request, *_] = pd.get("/_inspect/requests").json()["requests"]
    answer = json.loads(result.stdout)
    assert result.exit_code == 1
    assert answer["outcome"]["dedup_key"] == request["body"]["dedup_key"]
    assert answer["outcome"]["status"] == "retrying"
    assert result.stderr.splitlines()[1] == f"error: {answer['detail']}"

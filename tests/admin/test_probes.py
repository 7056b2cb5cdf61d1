"""Send test event: a trigger that reaches PagerDuty within seconds."""

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from rbtk.admin import connectors
from rbtk.admin.connectors import UnknownConnector
from rbtk.admin.probes import ProbeOutcome, Problem, send_test_event
from rbtk.app import create_app
from rbtk.context import Context
from tests.conftest import production_test_send_wait
from tests.live import serving

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
TEST_KEY = re.compile(r"rbtk:test:pd-production:[0-9a-f]{12}")


def add_connector(context: Context, name: str = "pd-production") -> None:
    with context.engine.begin() as connection:
        connectors.add(
            connection, vault=context.vault, name=name, key=KEY, by="test", now=datetime.now(UTC)
        )


@pytest.fixture
def api(service: str, admin_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=service, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30
    ) as client:
        yield client


def alerts(emulator: str) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = httpx.get(f"{emulator}/_inspect/alerts").json()["alerts"]
    return answer


def eventually(check: Any, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_a_test_event_reaches_pagerduty_as_an_info_trigger_and_is_logged_as_sent(
    context: Context, api: httpx.Client, emulator: str
) -> None:
    add_connector(context)

    answer = api.post("/api/v1/pagerduty/connectors/pd-production/test")

    assert answer.status_code == 200
    outcome = answer.json()
    assert TEST_KEY.fullmatch(outcome["dedup_key"])
    assert outcome == {
        "connector": "pd-production",
        "dedup_key": outcome["dedup_key"],
        "delivery_id": outcome["delivery_id"],
        "status": "sent",
        "attempts": 1,
        "http_status": 202,
        "message": "Event processed",
        "errors": None,
        "latency_ms": outcome["latency_ms"],
        "resolve": None,
        "waiting": None,
        "verification": None,  # no REST API key to look for the incident with
    }
    assert outcome["latency_ms"] > 0
    (alert,) = alerts(emulator)
    assert (alert["routing_key"], alert["dedup_key"], alert["status"]) == (
        KEY,
        outcome["dedup_key"],
        "triggered",
    )
    assert alert["severity"] == "info"
    assert alert["summary"] == "Roboticks test event from rbtk for connector pd-production"
    payload = alert["last_payload"]
    assert (payload["source"], payload["component"], payload["class"]) == (
        "roboticks/rbtk",
        "rbtk",
        "test_event",
    )
    assert payload["custom_details"] == {
        "connector": "pd-production",
        "message": "This is a test event sent by rbtk to check connector pd-production. "
        "Resolve it by hand in PagerDuty.",
    }
    log = api.get("/api/v1/pagerduty/deliveries", params={"dedup_key": outcome["dedup_key"]})
    (delivery,) = log.json()["deliveries"]
    assert {k: delivery[k] for k in ("id", "connector", "action", "severity", "status")} == {
        "id": outcome["delivery_id"],
        "connector": "pd-production",
        "action": "trigger",
        "severity": "info",
        "status": "sent",
    }
    assert (delivery["attempts"], delivery["http_status"]) == (1, 202)


def test_a_test_event_with_resolve_after_is_resolved_by_rbtk(
    context: Context, api: httpx.Client, emulator: str
) -> None:
    add_connector(context)

    answer = api.post(
        "/api/v1/pagerduty/connectors/pd-production/test", json={"resolve_after_s": 0.5}
    )

    assert answer.status_code == 200
    outcome = answer.json()
    assert outcome["status"] == "sent"
    assert outcome["resolve"]["delivery_id"] == outcome["delivery_id"] + 1
    resolved = eventually(lambda: [a for a in alerts(emulator) if a["status"] == "resolved"])
    assert [(a["dedup_key"], a["event_count"]) for a in resolved] == [(outcome["dedup_key"], 2)]

    def logged() -> list[tuple[str, str]]:
        # PagerDuty has the resolve a moment before rbtk records its answer.
        log = api.get("/api/v1/pagerduty/deliveries", params={"dedup_key": outcome["dedup_key"]})
        rows = [(d["action"], d["status"]) for d in log.json()["deliveries"]]
        return rows if ("resolve", "queued") not in rows else []

    assert eventually(logged) == [("resolve", "sent"), ("trigger", "sent")]


def slow_retries(context: Context) -> None:
    """Retry no sooner than in a minute, so a test sees the first attempt only."""
    context.settings = context.settings.model_copy(update={"retry_base_s": 60.0})


def test_an_unreachable_pagerduty_is_a_clear_error_and_the_event_keeps_being_retried(
    context: Context,
) -> None:
    # The suite's settings send to 127.0.0.1:9, where nothing listens.
    add_connector(context)
    slow_retries(context)
    with serving(create_app(context)):
        outcome = send_test_event(context, connector="pd-production", wait_s=10)

    assert outcome.problem is Problem.UNREACHABLE
    assert (outcome.status, outcome.attempts, outcome.http_status) == ("retrying", 1, None)
    assert outcome.message is not None
    assert outcome.message.startswith("could not reach PagerDuty: ")
    assert outcome.error == (
        f"could not reach PagerDuty at http://127.0.0.1:9/v2/enqueue: {outcome.message}; "
        "rbtk keeps retrying the test event"
    )


def test_the_api_answers_an_unreachable_pagerduty_at_once_with_202_and_the_row(
    context: Context, admin_token: str
) -> None:
    add_connector(context)
    slow_retries(context)
    production_test_send_wait(context)
    with (
        serving(create_app(context)) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}) as api,
    ):
        api.get("/api/v1/pagerduty/connectors")  # the server's first request: its warm-up
        answer = api.post("/api/v1/pagerduty/connectors/pd-production/test", timeout=30)

    assert answer.status_code == 202
    queued = answer.json()
    assert queued["detail"].startswith(
        "could not reach PagerDuty at http://127.0.0.1:9/v2/enqueue: could not reach PagerDuty: "
    )
    assert queued["detail"].endswith("; rbtk keeps retrying the test event")
    assert (queued["status"], queued["attempts"], queued["http_status"]) == ("retrying", 1, None)
    assert queued["waiting"]["reason"] == "retry backoff"


def test_the_api_answers_a_hanging_pagerduty_at_once_with_202_and_the_queued_row(
    context: Context, admin_token: str, emulator: str
) -> None:
    # PagerDuty takes the connection and never answers: rbtk's request times out only after
    # the channel's timeout, which a person's request must not wait for.
    httpx.put(f"{emulator}/_control/faults", json={"latency_ms": 5_000}).raise_for_status()
    context.settings = context.settings.model_copy(
        update={"pagerduty_url": f"{emulator}/v2/enqueue", "pagerduty_timeout_s": 2.0}
    )
    production_test_send_wait(context)
    add_connector(context)
    with (
        serving(create_app(context)) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}) as api,
    ):
        api.get("/api/v1/pagerduty/connectors")  # the server's first request: its warm-up
        answer = api.post("/api/v1/pagerduty/connectors/pd-production/test", timeout=30)

    assert answer.status_code == 202
    queued = answer.json()
    assert (queued["status"], queued["attempts"], queued["waiting"]) == ("queued", 0, None)
    assert queued["detail"] == (
        "the test event is queued: PagerDuty has not answered yet; it is sent when delivery "
        "gets to it (see the delivery log)"
    )


def test_a_test_event_behind_a_spent_rate_budget_is_answered_at_once_with_when_it_can_go(
    context: Context, admin_token: str, emulator: str
) -> None:
    context.settings = context.settings.model_copy(
        update={"pagerduty_url": f"{emulator}/v2/enqueue", "pagerduty_rate_per_min": 1}
    )
    add_connector(context)
    with (
        serving(create_app(context)) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}) as api,
    ):
        first = api.post("/api/v1/pagerduty/connectors/pd-production/test")  # spends it
        production_test_send_wait(context)
        answer = api.post("/api/v1/pagerduty/connectors/pd-production/test")
        queued = answer.json()
        followed = api.get(f"/api/v1/pagerduty/deliveries/{queued['delivery_id']}").json()

    assert first.status_code == 200
    assert answer.status_code == 202
    until = queued["waiting"]["until"]
    assert queued["waiting"] == {"reason": "rate budget", "until": until}
    assert (queued["status"], queued["attempts"]) == ("queued", 0)
    assert queued["detail"] == (
        f"the test event is queued behind the rate budget until {until}; it is sent when "
        "delivery gets to it (see the delivery log)"
    )
    assert (followed["status"], followed["waiting"]["reason"]) == ("queued", "rate budget")
    assert [a["dedup_key"] for a in alerts(emulator)] == [first.json()["dedup_key"]]


def test_a_test_event_nobody_sends_in_time_is_answered_as_queued(context: Context) -> None:
    add_connector(context)  # no delivery workers run here

    outcome = send_test_event(context, connector="pd-production", wait_s=0.2)

    assert outcome.problem is Problem.QUEUED
    assert (outcome.status, outcome.attempts, outcome.http_status) == ("queued", 0, None)
    assert outcome.error == (
        "the test event is queued: PagerDuty has not answered yet; it is sent when delivery "
        "gets to it (see the delivery log)"
    )


def test_a_test_event_for_an_unknown_connector_is_refused(context: Context) -> None:
    with pytest.raises(UnknownConnector) as raised:
        send_test_event(context, connector="pd-nowhere", wait_s=0.1)

    assert str(raised.value) == "no connector named 'pd-nowhere'"


def outcome_of(**fields: Any) -> ProbeOutcome:
    defaults: dict[str, Any] = {
        "connector": "pd-production",
        "dedup_key": "rbtk:test:pd-production:0123456789ab",
        "delivery_id": 1,
        "status": "sent",
        "attempts": 1,
        "http_status": 202,
        "message": "Event processed",
        "errors": None,
        "latency_ms": 3.0,
        "endpoint": "https://events.pagerduty.com/v2/enqueue",
    }
    return ProbeOutcome(**(defaults | fields))


def test_a_sent_test_event_has_no_error() -> None:
    outcome = outcome_of()

    assert (outcome.problem, outcome.error) == (None, None)


def test_a_400_from_pagerduty_is_reported_with_its_message_and_a_hint_about_the_key() -> None:
    outcome = outcome_of(
        status="failed",
        http_status=400,
        message="Event object is invalid",
        errors=["Length of 'routing_key' is incorrect (should be 32 characters)"],
    )

    assert outcome.problem is Problem.REFUSED
    assert outcome.error == (
        "PagerDuty refused the test event (HTTP 400): Event object is invalid; "
        "check the connector's integration key"
    )


def test_a_retried_pagerduty_error_is_reported_with_its_status() -> None:
    outcome = outcome_of(status="retrying", http_status=503, message="PagerDuty answered 503")

    assert outcome.problem is Problem.PAGERDUTY_ERROR
    assert outcome.error == (
        "PagerDuty answered HTTP 503: PagerDuty answered 503; rbtk keeps retrying the test event"
    )

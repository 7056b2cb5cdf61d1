"""A test send not answered when its form was: the page it leads to shows the row's state
and, refreshed, its outcome (driven here by plain HTTP: what the page says, not how it looks;
the refresh itself is static/app.js's, as on the delivery log)."""

import re
from collections.abc import Iterator
from html import unescape

import httpx
import pytest

from tests.factories import KEY
from tests.receivers import webhook_receiver
from tests.waiting import wait_for
from tests.web.conftest import Service, add_connector

pytestmark = pytest.mark.e2e

CONNECTOR = "/settings/integrations/pagerduty/connectors/pd-slow"
NOTIFICATIONS = "/settings/integrations/notifications"
SERVICE_ENV = {"RBTK_TEST_SEND_WAIT_S": "0.25"}  # production's wait: what is slower follows


@pytest.fixture
def session(service: Service) -> Iterator[httpx.Client]:
    """Signed in through the sign-in form, with the session's cookie."""
    with httpx.Client(base_url=service.url, timeout=30) as client:
        form = client.get("/settings/sign-in").text
        signed = client.post(
            "/settings/sign-in",
            data={"csrf_token": csrf(form), "token": service.token, "next": "/settings"},
        )
        assert signed.status_code == 303, signed.text
        yield client


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, "no CSRF token on the page"
    return found[1]


def outcome(page: str) -> str:
    found = re.search(r'id="test-outcome"[^>]*>\s*<p>(.*?)</p>', page, re.S)
    assert found is not None, page
    return unescape(re.sub(r"<[^>]+>", "", found[1]).strip())


def test_a_test_event_pagerduty_is_slow_to_answer_is_shown_waiting_then_sent(
    session: httpx.Client, service: Service
) -> None:
    add_connector(service, "pd-slow", KEY, is_default=False)
    token = csrf(session.get(CONNECTOR).text)
    service.emulator.faults(latency_ms=1_500)  # slower than the request waits for
    try:
        sent = session.post(f"{CONNECTOR}/test", data={"csrf_token": token})
        follow = sent.headers["location"]
        waiting = session.get(follow)
        assert (sent.status_code, follow) == (303, f"{CONNECTOR}/test/{follow.split('/')[-1]}")
        assert outcome(waiting.text) == (
            "Waiting. The test event is queued: PagerDuty has not answered yet; it is sent "
            "when delivery gets to it (see the delivery log)"
        )
        assert 'data-refresh="2"' in waiting.text
        done = wait_for(
            lambda: session.get(follow).text,
            until=lambda page: not outcome(page).startswith("Waiting."),
            what="the followed test event to be answered",
        )
    finally:
        service.emulator.faults()
    assert outcome(done) == "Sent. PagerDuty accepted the test trigger (HTTP 202)."
    assert 'data-refresh="' not in done  # answered: no more refreshing


def test_a_test_message_the_channel_fails_at_first_is_shown_retried_then_sent(
    session: httpx.Client, service: Service
) -> None:
    with webhook_receiver() as hook, service.api() as api:
        hook.answers = [503]  # Slack fails the first attempt; the retry is taken
        added = api.post(
            "/api/v1/notify/channels",
            json={"name": "ops-slack", "kind": "slack", "webhook_url": hook.url},
        )
        assert added.status_code == 201, added.text
        token = csrf(session.get(NOTIFICATIONS).text)

        sent = session.post(f"{NOTIFICATIONS}/channels/ops-slack/test", data={"csrf_token": token})
        follow = sent.headers["location"]
        first = session.get(follow)
        done = wait_for(
            lambda: session.get(follow).text,
            until=lambda page: outcome(page).startswith("Sent."),
            what="the followed test message to be delivered",
        )

    assert follow.startswith(f"{NOTIFICATIONS}/channels/ops-slack/test/")
    assert outcome(first.text) == (
        "Waiting. The test message to 'ops-slack' is being retried (503, no_service)"
    )
    assert outcome(done) == "Sent. Test message sent to ops-slack (200, ok)."
    assert len(hook.received) == 1

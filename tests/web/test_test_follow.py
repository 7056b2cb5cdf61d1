"""A test send not answered when its form was: the page it leads to shows the row's state
and, refreshed, its outcome (driven here by plain HTTP: what the page says, not how it looks;
the refresh itself is static/app.js's, as on the delivery log)."""

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.factories import KEY
from tests.waiting import wait_for
from tests.web.conftest import Service, add_connector

pytestmark = pytest.mark.e2e

CONNECTOR = "/settings/integrations/pagerduty/connectors/pd-slow"
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


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no CSRF token on the page"
    return found[1]


def outcome(html: str) -> str:
    found = re.search(r'id="test-outcome"[^>]*>\s*<p>(.*?)</p>', html, re.S)
    assert found is not None, html
    return re.sub(r"<[^>]+>", "", found[1]).strip()


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
            until=lambda html: not outcome(html).startswith("Waiting."),
            what="the followed test event to be answered",
        )
    finally:
        service.emulator.faults()
    assert outcome(done) == "Sent. PagerDuty accepted the test trigger (HTTP 202)."
    assert 'data-refresh="' not in done  # answered: no more refreshing

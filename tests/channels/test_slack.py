"""What Slack's answers mean, and that nothing but Slack's own short codes is kept of them."""

import pytest

from rbtk.channels.base import Result, Verdict
from rbtk.channels.slack import classify


def test_a_2xx_is_delivered() -> None:
    assert classify(200, {}, b"ok") == Result(Verdict.SENT, 200, "ok")


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (404, b"no_service", Verdict.FAILED),
        (403, b"invalid_token", Verdict.FAILED),
        (400, b"invalid_payload\n", Verdict.FAILED),
        (410, b"channel_is_archived", Verdict.FAILED),
        (429, b"rate_limited", Verdict.RETRY),
    ],
)
def test_slacks_own_error_codes_are_kept(status: int, body: bytes, verdict: Verdict) -> None:
    result = classify(status, {}, body)

    assert (result.verdict, result.http_status, result.message) == (
        verdict,
        status,
        body.decode().strip(),
    )


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, b"db_password=hunter2", "ok"),
        (200, b"<html><body>Welcome, admin</body></html>", "ok"),
        (403, b"db_password=hunter2", "Slack refused the message (403)"),
        (400, b"hunter2", "Slack refused the message (400)"),
        (401, b'{"error": "invalid_token", "token": "xoxb-1"}', "Slack refused the message (401)"),
        (500, b"Traceback: ... password=hunter2", "Slack answered 500"),
        (503, b"", "Slack answered 503"),
        (404, b"", "Slack refused the message (404)"),
    ],
)
def test_any_other_answer_is_reduced_to_its_status(status: int, body: bytes, message: str) -> None:
    assert classify(status, {}, body).message == message


def test_a_429_keeps_slacks_retry_after() -> None:
    result = classify(429, {"Retry-After": "30"}, b"rate_limited")

    assert (result.verdict, result.retry_after_s) == (Verdict.RETRY, 30.0)


def test_a_5xx_says_the_webhook_is_down_but_a_429_only_asks_to_wait() -> None:
    assert classify(503, {}, b"").endpoint_down is True
    assert classify(429, {"Retry-After": "3"}, b"rate_limited").endpoint_down is False

"""What PagerDuty's answers mean for the row and the endpoint, and how loudly they are logged."""

import json
import logging

import pytest

from rbtk.channels.base import Verdict
from rbtk.channels.pagerduty import classify


def test_a_permanent_400_is_logged_as_a_warning_with_pagerdutys_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = json.dumps(
        {"status": "invalid event", "message": "Event object is invalid", "errors": ["x"]}
    ).encode()
    with caplog.at_level(logging.INFO, logger="rbtk"):
        result = classify(400, {}, body)
    assert result.verdict is Verdict.FAILED
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Event object is invalid" in warnings[0].getMessage()
    assert "400" in warnings[0].getMessage()


def test_an_accepted_event_logs_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rbtk"):
        classify(202, {}, b'{"status": "success", "message": "Event processed"}')
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("status", [408, 500, 502, 503])
def test_a_5xx_or_408_says_the_endpoint_is_down(status: int) -> None:
    result = classify(status, {}, b"")
    assert (result.verdict, result.endpoint_down) == (Verdict.RETRY, True)


@pytest.mark.parametrize(("status", "verdict"), [(429, Verdict.RETRY), (400, Verdict.FAILED)])
def test_a_429_or_400_is_about_one_event_not_the_endpoint(status: int, verdict: Verdict) -> None:
    result = classify(status, {"Retry-After": "5"}, b"")
    assert (result.verdict, result.endpoint_down) == (verdict, False)


def test_a_refusal_with_nul_or_a_lone_surrogate_is_read_and_logged_as_replacement_characters(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'{"message": "bad\\u0000key \\ud800", "errors": ["x\\u0000y"]}'
    with caplog.at_level(logging.WARNING, logger="rbtk.channels.pagerduty"):
        result = classify(400, {}, body)

    assert (result.message, result.errors) == ("bad\ufffdkey \ufffd", ["x\ufffdy"])
    [record] = caplog.records
    record.getMessage().encode()  # a log line any UTF-8 stream can write

"""Each HTTP channel's `send` against `FakeIo`, with no server: the request it builds, and
what it makes of each answer. (The real peers are in the e2e and delivery tests.)"""

import asyncio
import hashlib
import hmac
import json

from rbtk.channels import pagerduty, slack, webhook
from rbtk.channels.base import Delivery, Request, Verdict
from rbtk.channels.fake import FakeIo, Reply
from rbtk.runtime.secrets import Secret
from rbtk.runtime.settings import Settings

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
EVENTS = "https://events.pagerduty.com/v2/enqueue"
SLACK = "https://hooks.slack.com/services/T0001/B0002/s3cr3t"
HOOK = "https://hooks.roboticks.test/rbtk"
BODY = {"event_action": "trigger", "dedup_key": "rbtk:test:pd-production:1"}


OK = Reply()


def io(answer: Reply = OK) -> FakeIo:
    return FakeIo(lambda _: answer, settings=Settings())


def test_a_page_is_posted_to_the_rows_endpoint_with_its_key_added_only_then() -> None:
    fake = io(Reply(202, b'{"status": "success", "message": "Event processed"}'))

    result = asyncio.run(pagerduty.send(Delivery(BODY, EVENTS, Secret(KEY)), fake))

    [request] = fake.requests
    assert request.url == EVENTS
    assert json.loads(request.body) == {"routing_key": KEY, **BODY}
    assert (result.verdict, result.http_status, result.message) == (
        Verdict.SENT, 202, "Event processed",
    )  # fmt: skip


def test_pagerdutys_throttle_is_retried_after_the_time_it_asks_for() -> None:
    fake = io(Reply(429, b"{}", {"Retry-After": "30"}))

    result = asyncio.run(pagerduty.send(Delivery(BODY, EVENTS, Secret(KEY)), fake))

    assert (result.verdict, result.retry_after_s, result.endpoint_down) == (
        Verdict.RETRY, 30.0, False,
    )  # fmt: skip


def test_a_row_without_its_secret_fails_without_a_request() -> None:
    for channel in (pagerduty, slack, webhook):
        fake = io()

        result = asyncio.run(channel.send(Delivery(BODY, EVENTS, None), fake))

        assert (result.verdict, fake.requests) == (Verdict.FAILED, []), channel.kind


def test_slack_is_posted_to_the_webhook_url_its_secret_holds() -> None:
    fake = io(Reply(200, b"ok"))

    result = asyncio.run(slack.send(Delivery({"text": "hi"}, "slack", Secret(SLACK)), fake))

    assert [(r.url, json.loads(r.body)) for r in fake.requests] == [(SLACK, {"text": "hi"})]
    assert result.verdict is Verdict.SENT


def test_a_webhook_request_is_signed_so_the_receiver_can_check_it() -> None:
    seen: list[Request] = []

    def receiver(request: Request) -> Reply:
        seen.append(request)
        return Reply(204)

    fake = FakeIo(receiver, settings=Settings())

    result = asyncio.run(webhook.send(Delivery({"a": 1}, HOOK, Secret("signing")), fake))

    [request] = seen
    signed = request.headers["X-Rbtk-Timestamp"].encode() + b"." + request.body
    expected = hmac.new(b"signing", signed, hashlib.sha256).hexdigest()
    assert request.headers["X-Rbtk-Signature"] == f"sha256={expected}"
    assert (request.url, result.verdict) == (HOOK, Verdict.SENT)


def test_no_answer_at_all_is_retried_and_marks_the_endpoint_down() -> None:
    fake = io(Reply(error="connection refused"))

    result = asyncio.run(pagerduty.send(Delivery(BODY, EVENTS, Secret(KEY)), fake))

    assert (result.verdict, result.endpoint_down, result.message) == (
        Verdict.RETRY, True, "could not reach PagerDuty: connection refused",
    )  # fmt: skip

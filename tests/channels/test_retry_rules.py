"""Every channel's retry rules are data (`RETRIER`, as Alertmanager's `Retrier`), and its
`classify` follows them: one table across every HTTP channel, and the SMTP replies."""

import pytest

from rbtk.channels import email, pagerduty, slack, webhook
from rbtk.channels.base import Verdict
from rbtk.channels.registry import CHANNELS

SENT, RETRY, FAILED = Verdict.SENT, Verdict.RETRY, Verdict.FAILED

# status: (verdict, endpoint down) for PagerDuty, Slack, a webhook
TABLE = {
    200: ((FAILED, False), (SENT, False), (SENT, False)),
    202: ((SENT, False), (SENT, False), (SENT, False)),
    204: ((FAILED, False), (SENT, False), (SENT, False)),
    301: ((FAILED, False), (FAILED, False), (FAILED, False)),
    400: ((FAILED, False), (FAILED, False), (FAILED, False)),
    401: ((FAILED, False), (FAILED, False), (FAILED, False)),
    403: ((FAILED, False), (FAILED, False), (FAILED, False)),
    404: ((FAILED, False), (FAILED, False), (FAILED, False)),
    408: ((RETRY, True), (RETRY, True), (RETRY, True)),
    429: ((RETRY, False), (RETRY, False), (RETRY, False)),
    500: ((RETRY, True), (RETRY, True), (RETRY, True)),
    502: ((RETRY, True), (RETRY, True), (RETRY, True)),
    503: ((RETRY, True), (RETRY, True), (RETRY, True)),
    504: ((RETRY, True), (RETRY, True), (RETRY, True)),
    520: ((RETRY, True), (RETRY, True), (RETRY, True)),
}
HTTP_CHANNELS = (pagerduty, slack, webhook)


@pytest.mark.parametrize("status", sorted(TABLE))
def test_each_http_channel_classifies_an_answer_as_its_retry_rules_say(status: int) -> None:
    for channel, (verdict, down) in zip(HTTP_CHANNELS, TABLE[status], strict=True):
        result = channel.classify(status, {}, b"")
        assert (result.verdict, result.endpoint_down) == (verdict, down), channel.kind
        assert channel.RETRIER.verdict(status) is verdict
        assert channel.RETRIER.endpoint_down(status) is down


def test_every_registered_channel_declares_its_retry_rules() -> None:
    assert {kind: hasattr(module, "RETRIER") for kind, module in CHANNELS.items()} == {
        kind: True for kind in CHANNELS
    }


@pytest.mark.parametrize(
    ("code", "verdict", "down"),
    [(421, RETRY, True), (450, RETRY, False), (452, RETRY, False), (550, FAILED, False),
     (554, FAILED, False)],
)  # fmt: skip
def test_smtp_replies_are_judged_by_the_email_channels_rules(
    code: int, verdict: Verdict, down: bool
) -> None:
    result = email._reply(code, b"said", 0.0)

    assert (result.verdict, result.endpoint_down, result.message) == (
        verdict, down, f"SMTP {code} said",
    )  # fmt: skip


def test_retry_after_is_read_from_any_retried_answer() -> None:
    for channel in HTTP_CHANNELS:
        assert channel.classify(429, {"Retry-After": "7"}, b"").retry_after_s == 7.0
        assert channel.classify(503, {"Retry-After": "2"}, b"").retry_after_s == 2.0

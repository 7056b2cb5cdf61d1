"""The generic webhook channel: what it accepts, what it sends, how a receiver checks it."""

import hashlib
import hmac
import json
from typing import Any

import pytest

from rbtk.channels import webhook
from rbtk.channels.base import InvalidDestination, Verdict
from rbtk.channels.message import Message
from rbtk.channels.registry import CHAT, channel
from rbtk.runtime.secrets import Secret

SECRET = "s3cret-signing-key-0123"
MESSAGE = Message(
    title="test_run.completed in warehouse",
    project="warehouse",
    event_type="test_run.completed",
    event_id="run-42",
    occurred_at="2026-05-25T03:00:00Z",
    fields=[("Branch", "feature/x"), ("Result", "failed")],
    link="https://app.roboticks.io/projects/warehouse",
)


def test_the_webhook_is_one_registered_chat_channel() -> None:
    assert CHAT["webhook"] is webhook
    assert channel("webhook") is webhook
    assert [(f.name, f.secret) for f in webhook.fields] == [
        ("url", False),
        ("signing_secret", True),
    ]


def test_an_https_url_and_a_secret_make_a_destination_whose_only_secret_is_the_key() -> None:
    destination = webhook.validate(
        {"url": "http://127.0.0.1:9000/rbtk", "signing_secret": SECRET}, allow_private=True
    )

    assert destination.secret == Secret(SECRET)
    assert destination.config == {"url": "http://127.0.0.1:9000/rbtk"}
    assert destination.endpoint == "http://127.0.0.1:9000/rbtk"


@pytest.mark.parametrize(
    ("values", "allow_private", "message"),
    [
        ({"signing_secret": SECRET}, True,
         "url: a webhook channel needs one, e.g. https://hooks.example.com/rbtk"),
        ({"url": "https://hooks.example.com/rbtk"}, True,
         "signing_secret: a webhook channel needs one, at least 16 characters"),
        ({"url": "https://hooks.example.com/rbtk", "signing_secret": "short"}, True,
         "signing_secret: must be 16 to 256 characters, got 5"),
        ({"url": "http://192.168.1.10/rbtk", "signing_secret": SECRET}, True,
         "url: starts with 'http:', not https://: webhooks are sent only over https (plain "
         "http only to a loopback address, with RBTK_ALLOW_PRIVATE_WEBHOOKS=1); expected an "
         "https URL such as https://hooks.example.com/rbtk"),
        ({"url": "http://127.0.0.1:9000/rbtk", "signing_secret": SECRET}, False,
         "url: starts with 'http:', not https://: webhooks are sent only over https (plain "
         "http only to a loopback address, with RBTK_ALLOW_PRIVATE_WEBHOOKS=1); expected an "
         "https URL such as https://hooks.example.com/rbtk"),
        ({"url": "https://10.0.0.5/rbtk", "signing_secret": SECRET}, False,
         "url: 10.0.0.5 is a private address; webhooks may only reach public addresses "
         "(set RBTK_ALLOW_PRIVATE_WEBHOOKS=1 to allow internal addresses)"),
    ],
)  # fmt: skip
def test_a_bad_destination_is_refused_naming_the_field(
    values: dict[str, Any], allow_private: bool, message: str
) -> None:
    with pytest.raises(InvalidDestination) as raised:
        webhook.validate(values, allow_private=allow_private)

    assert str(raised.value) == message
    assert SECRET not in str(raised.value)


def test_the_body_is_the_documented_version_1_shape() -> None:
    assert webhook.render(MESSAGE, {"url": "https://hooks.example.com/rbtk"}) == {
        "version": 1,
        "event": {
            "id": "run-42",
            "type": "test_run.completed",
            "project": "warehouse",
            "occurred_at": "2026-05-25T03:00:00Z",
        },
        "title": "test_run.completed in warehouse",
        "fields": [
            {"name": "Branch", "value": "feature/x"},
            {"name": "Result", "value": "failed"},
        ],
        "link": "https://app.roboticks.io/projects/warehouse",
    }


def test_the_signature_covers_the_timestamp_and_the_body() -> None:
    body = json.dumps({"version": 1}).encode()
    request = webhook.request(
        "https://hooks.example.com/rbtk", body, Secret(SECRET), now=1764559200
    )

    expected = hmac.new(SECRET.encode(), b"1764559200." + body, hashlib.sha256).hexdigest()
    assert request.headers == {
        "X-Rbtk-Timestamp": "1764559200",
        "X-Rbtk-Signature": f"sha256={expected}",
    }
    assert request.body == body
    other = webhook.request("https://hooks.example.com/rbtk", body, Secret(SECRET), now=1764559201)
    assert other.headers["X-Rbtk-Signature"] != request.headers["X-Rbtk-Signature"]


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, Verdict.SENT), (204, Verdict.SENT), (429, Verdict.RETRY), (503, Verdict.RETRY),
     (408, Verdict.RETRY), (401, Verdict.FAILED), (404, Verdict.FAILED)],
)  # fmt: skip
def test_answers_are_classified_like_slack_and_their_bodies_never_kept(
    status: int, verdict: Verdict
) -> None:
    result = webhook.classify(status, {"Retry-After": "7"}, b"db_password=hunter2")

    assert result.verdict is verdict
    assert "hunter2" not in result.message
    assert result.retry_after_s == (7.0 if verdict is Verdict.RETRY else None)

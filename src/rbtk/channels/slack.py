"""Slack incoming webhooks: a Block Kit message, and what Slack's answers mean."""

from collections.abc import Mapping
from typing import Any

from rbtk.channels.base import (
    HTTP,
    Delivery,
    Destination,
    Field,
    InvalidDestination,
    Io,
    Limits,
    Request,
    Result,
    Verdict,
    configured,
    retry_after,
)
from rbtk.channels.message import Message
from rbtk.channels.pagerduty_body import encode
from rbtk.channels.public_url import URL_SCHEMA, checked_url
from rbtk.runtime.secrets import Secret
from rbtk.runtime.settings import Settings

kind = "slack"
address_is_secret = True  # the webhook URL is the secret; rows store only "slack" as their endpoint
digests = True  # a person reads each message: a burst becomes one digest a minute
label = "Slack"
peer = "Slack"
EXAMPLE = "https://hooks.slack.com/services/T000/B000/XXXX"
summary = "incoming webhook"  # beside the label where a kind is chosen
fields: tuple[Field, ...] = (
    Field(
        "webhook_url",
        "Webhook URL",
        f"A Slack incoming webhook, e.g. {EXAMPLE} (a secret: shown masked from then on)",
        secret=True,
        schema=URL_SCHEMA,
    ),
)


# Slack's documented limit for incoming webhooks: about one message a second each.
LIMITS = Limits(rate_per_min=60, timeout_s=10.0, concurrency=8)


def limits(settings: Settings) -> Limits:
    return configured(settings, kind, LIMITS)


def validate(values: Mapping[str, Any], *, allow_private: bool) -> Destination:
    """An https URL of a public host; the webhook URL is the secret, and the message never
    repeats it."""
    url = values.get("webhook_url")
    if not isinstance(url, str):
        raise InvalidDestination(
            f"webhook_url: a Slack channel needs one, e.g. {EXAMPLE}", field="webhook_url"
        )
    expected = f"expected a Slack incoming webhook URL such as {EXAMPLE}"
    checked_url(url, field="webhook_url", expected=expected, allow_private=allow_private)
    # The URL is the secret: the delivery log shows only that it went to Slack.
    return Destination(secret=Secret(url), config={}, endpoint=kind)


def describe(config: Mapping[str, Any], secret_masked: str | None) -> str:
    return secret_masked or "-"


def render(message: Message, config: Mapping[str, Any]) -> dict[str, Any]:
    return body(message)


async def send(delivery: Delivery, io: Io) -> Result:
    if delivery.secret is None:  # every Slack row is written with its webhook
        return Result(Verdict.FAILED, None, "no webhook URL stored for this channel")
    return await io.post(Request(delivery.secret.reveal(), encode(delivery.body)), classify, peer)


def body(message: Message) -> dict[str, Any]:
    when = f"{_escape(message.occurred_at)} · event {_escape(message.event_id)}"
    fields = [
        {"type": "mrkdwn", "text": f"*{_escape(k)}*\n{_escape(v)}"} for k, v in message.fields
    ]
    return {
        "text": f"{message.title} ({message.project})",  # the notification's plain fallback
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
            {"type": "section", "fields": fields[:10]},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": when}],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": message.link_label},
                        "url": message.link,
                    }
                ],
            },
        ],
    }


# What Slack's incoming webhooks answer, as documented: a short code and nothing else. Only
# these are kept from an answer. Anything else is shown as its status alone: a webhook URL
# can point at something that is not Slack, and its answer (a page, a config dump, a
# token) must never reach the delivery log, the logs or the test-message answer.
CODES = frozenset(
    {
        "ok",
        "action_prohibited",
        "channel_is_archived",
        "channel_not_found",
        "invalid_attachments",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_payload",
        "invalid_token",
        "missing_text_or_fallback_or_attachments",
        "msg_too_long",
        "no_active_hooks",
        "no_service",
        "no_service_id",
        "no_team",
        "no_text",
        "posting_to_general_channel_denied",
        "rate_limited",
        "restricted_action",
        "team_disabled",
        "too_many_attachments",
        "user_not_found",
    }
)


RETRIER = HTTP  # 2xx delivered; 408, 429 and 5xx retried (5xx and 408: Slack is down)


def classify(status: int, headers: Mapping[str, str], content: bytes) -> Result:
    """What Slack's answer means, by `RETRIER`, with Slack's own error code when it gives one."""
    said = content[:64].decode(errors="replace").strip()
    code = said if said in CODES else None
    verdict = RETRIER.verdict(status)
    if verdict is Verdict.SENT:
        return Result(Verdict.SENT, status, code or "ok")
    if verdict is Verdict.RETRY:
        return Result(
            Verdict.RETRY,
            status,
            code or f"Slack answered {status}",
            retry_after_s=retry_after(headers.get("Retry-After")),
            endpoint_down=RETRIER.endpoint_down(status),
        )
    return Result(Verdict.FAILED, status, code or f"Slack refused the message ({status})")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

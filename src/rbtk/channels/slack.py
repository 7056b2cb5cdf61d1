"""Slack incoming webhooks: a Block Kit message, and what Slack's answers mean."""

from collections.abc import Mapping
from typing import Any

from rbtk.channels.base import Result, Verdict, retry_after
from rbtk.channels.message import Message


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
                        "text": {"type": "plain_text", "text": "Open in Roboticks"},
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


def classify(status: int, headers: Mapping[str, str], content: bytes) -> Result:
    """2xx is delivered; 429 and 5xx are retried; any other 4xx will not fix itself."""
    said = content[:64].decode(errors="replace").strip()
    code = said if said in CODES else None
    if 200 <= status < 300:
        return Result(Verdict.SENT, status, code or "ok")
    if status == 429 or status >= 500 or status == 408:
        return Result(
            Verdict.RETRY,
            status,
            code or f"Slack answered {status}",
            retry_after_s=retry_after(headers.get("Retry-After")),
            endpoint_down=status != 429,
        )
    return Result(Verdict.FAILED, status, code or f"Slack refused the message ({status})")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

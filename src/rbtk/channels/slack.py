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


def classify(status: int, headers: Mapping[str, str], content: bytes) -> Result:
    """2xx is delivered; 429 and 5xx are retried; any other 4xx will not fix itself."""
    text = content[:500].decode(errors="replace").strip()
    if 200 <= status < 300:
        return Result(Verdict.SENT, status, text or "ok")
    if status == 429 or status >= 500 or status == 408:
        return Result(
            Verdict.RETRY,
            status,
            text or f"Slack answered {status}",
            retry_after_s=retry_after(headers.get("Retry-After")),
        )
    return Result(Verdict.FAILED, status, text or f"Slack refused the message ({status})")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

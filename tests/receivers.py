"""Real local peers for Slack and email: a webhook receiver and an aiosmtpd SMTP server."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from tests.live import serving


@dataclass
class Webhook:
    """An incoming-webhook stand-in: records each POST, answers the statuses queued up."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    body: str | None = None  # what it answers instead of "ok" / "no_service"


@contextmanager
def webhook_receiver() -> Iterator[Webhook]:
    hook = Webhook()
    app = FastAPI()

    @app.post("/services/{path:path}")
    async def receive(request: Request) -> PlainTextResponse:
        status = hook.answers.pop(0) if hook.answers else 200
        if status == 200:
            hook.received.append(await request.json())
        text = hook.body if hook.body is not None else "ok" if status == 200 else "no_service"
        return PlainTextResponse(text, status_code=status)

    with serving(app, lifespan="off") as url:
        hook.url = f"{url}/services/T000/B000/XXXXSECRETXXXX"
        yield hook


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        self.messages.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@dataclass
class Mailbox:
    port: int
    inbox: _Inbox


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Mailbox(port, inbox)
    finally:
        controller.stop()

"""Real local peers for Slack, webhooks and email: webhook receivers (one that checks rbtk's
signature as a user's receiver would) and an aiosmtpd SMTP server."""

import hashlib
import hmac
import socket
import time
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
    arrived_at: list[float] = field(default_factory=list)  # time.monotonic() of each received
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
            body = await request.json()
            hook.arrived_at.append(time.monotonic())
            hook.received.append(body)
        text = hook.body if hook.body is not None else "ok" if status == 200 else "no_service"
        return PlainTextResponse(text, status_code=status)

    with serving(app, lifespan="off") as url:
        hook.url = f"{url}/services/T000/B000/XXXXSECRETXXXX"
        yield hook


@dataclass
class SignedHook:
    """A receiver of rbtk's generic webhook that verifies X-Rbtk-Signature, the way its
    documentation tells users to: HMAC-SHA256 of "<timestamp>.<body>", timestamps no older
    than five minutes. It answers 401 to anything else and keeps only what it verified."""

    secret: str
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why each refused request was refused
    answers: list[int] = field(default_factory=list)


@contextmanager
def signed_webhook_receiver(secret: str) -> Iterator[SignedHook]:
    hook = SignedHook(secret)
    app = FastAPI()

    @app.post("/rbtk")
    async def receive(request: Request) -> PlainTextResponse:
        body = await request.body()
        timestamp = request.headers.get("X-Rbtk-Timestamp", "")
        signature = request.headers.get("X-Rbtk-Signature", "")
        expected = hmac.new(
            secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(signature, f"sha256={expected}"):
            hook.refused.append("bad signature")
            return PlainTextResponse("bad signature", status_code=401)
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            hook.refused.append("stale timestamp")
            return PlainTextResponse("stale", status_code=401)
        status = hook.answers.pop(0) if hook.answers else 204
        if status < 300:
            hook.received.append(await request.json())
        return PlainTextResponse("", status_code=status)

    with serving(app, lifespan="off") as url:
        hook.url = f"{url}/rbtk"
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

"""A stand-in for the delivery worker's `Io`, as httpx ships `MockTransport`: a channel's
`send` runs against it with no server, each request recorded, each answer given by a
handler. For channel tests; the end-to-end tests keep their real peers."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from rbtk.channels.base import Classifier, Request, Result, Verdict
from rbtk.runtime.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """What the fake peer answers: a status, headers and a body; or, with `error`, no answer
    at all (what the real worker turns a timeout or a refused connection into)."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None


Handler = Callable[[Request], Reply]


class FakeIo:
    """An `Io` that hands each request to `handler` and classifies its answer as the worker
    does; `requests` holds every request in order."""

    def __init__(self, handler: Handler = lambda _: Reply(), *, settings: Settings) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._settings = settings

    @property
    def settings(self) -> Settings:
        return self._settings

    async def post(self, request: Request, classify: Classifier, peer: str) -> Result:
        self.requests.append(request)
        answer = self.handler(request)
        if answer.error is not None:
            return Result(Verdict.RETRY, None, f"could not reach {peer}: {answer.error}",
                          endpoint_down=True)  # fmt: skip
        return classify(answer.status, answer.headers, answer.body)

    def blocking(self, call: Callable[[], T]) -> Awaitable[T]:
        return asyncio.to_thread(call)

"""The outermost ASGI layer: fails Events API requests the way a sick PagerDuty would.

It must be outermost because dropping a connection needs the server's own `send`: under uvicorn
that is a bound method of the request cycle, whose `transport` can be closed before any byte
of a response is written, so the client sees the server hang up.
"""

import asyncio
from typing import Final, Protocol, runtime_checkable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from rbtk.emulator.events_api import (
    INJECTED_ERROR_BODY,
    INJECTED_REJECT_BODY,
    EventsResponse,
    parse_json,
    throttled,
)
from rbtk.emulator.faults import FaultAction
from rbtk.emulator.state import EmulatorState, RequestOutcome

ENQUEUE_PATHS: Final = frozenset({"/v2/enqueue", "/enqueue"})
CHANGE_PATHS: Final = frozenset({"/v2/change/enqueue", "/change/enqueue"})


@runtime_checkable
class _Closable(Protocol):
    def close(self) -> None: ...


class FaultInjectingApp:
    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_enqueue(scope):
            await self.app(scope, receive, send)
            return
        decision = self.state.decide_fault()
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        if decision.action is FaultAction.NONE:
            await self.app(scope, receive, send)
            return
        raw = await _read_body(receive)
        path: str = scope["path"]
        if decision.action is FaultAction.DROP:
            self._record(path, None, "dropped", raw)
            await _drop_connection(send, receive)
            return
        outcome: RequestOutcome
        if decision.action is FaultAction.THROTTLE:
            answer, outcome = throttled(decision.retry_after), "injected_throttle"
        elif decision.action is FaultAction.REJECT:
            answer, outcome = EventsResponse(400, dict(INJECTED_REJECT_BODY)), "injected_reject"
        else:
            answer, outcome = EventsResponse(500, dict(INJECTED_ERROR_BODY)), "injected_error"
        self._record(path, answer.status, outcome, raw)
        response = JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)
        await response(scope, receive, send)

    def _record(self, path: str, status: int | None, outcome: RequestOutcome, raw: bytes) -> None:
        self.state.record_request(path=path, status=status, outcome=outcome, body=parse_json(raw))


def _is_enqueue(scope: Scope) -> bool:
    paths = ENQUEUE_PATHS | CHANGE_PATHS  # faults hit both APIs, as an outage would
    return scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in paths


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _drop_connection(send: Send, receive: Receive) -> None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if not isinstance(transport, _Closable):
        raise RuntimeError(
            "cannot drop the connection: this ASGI server does not expose its transport; "
            "run the emulator under uvicorn (rbtk pd-emulator or running_emulator)"
        )
    transport.close()
    # Waiting for the disconnect tells uvicorn the missing response is deliberate.
    while (await receive())["type"] != "http.disconnect":
        pass

"""The one seam for outbound HTTP from the delivery workers: one session, timeouts always set."""

import time
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    latency_ms: float


def new_session(*, concurrency: int, timeout_s: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=30)
    timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, 5.0))
    return aiohttp.ClientSession(connector=connector, timeout=timeout, raise_for_status=False)


async def post_json(session: aiohttp.ClientSession, url: str, body: bytes) -> Response:
    """POST a JSON body; transport errors propagate as aiohttp/asyncio exceptions."""
    started = time.perf_counter()
    async with session.post(
        url, data=body, headers={"Content-Type": "application/json"}
    ) as response:
        payload = await response.read()
        return Response(
            response.status,
            dict(response.headers),
            payload,
            (time.perf_counter() - started) * 1000,
        )

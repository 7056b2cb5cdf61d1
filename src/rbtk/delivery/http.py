"""The one seam for outbound HTTP from the delivery workers: one session, timeouts always set,
redirects never followed, and webhooks kept to public addresses.

The address check happens where the connection is made, on the addresses the connection
will use: a webhook's name is resolved once, and what it resolved to is both judged and
connected to. So a name that passed when the webhook was added and now resolves to an
internal address (DNS rebinding) is refused, and so is an IP literal, at every send.
"""

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.tracing import Trace
from yarl import URL

from rbtk.runtime import addresses


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    latency_ms: float


class BlockedDestination(aiohttp.ClientConnectionError):
    """The host is, or resolves to, an address webhooks may not reach: nothing was sent."""


class _PublicOnly(aiohttp.TCPConnector):
    """Connects only to public addresses, except to the hosts (and ports) it is told to trust."""

    def __init__(self, *, trusted: frozenset[tuple[str, int]], limit: int) -> None:
        super().__init__(limit=limit, keepalive_timeout=30)
        self._trusted = trusted

    # aiohttp resolves every host here, IP literals included, and connects to exactly what
    # this answers (from its DNS cache too); tests/delivery/test_http.py holds it to that.
    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        resolved = await super()._resolve_host(host, port, traces=traces)
        if (host.rstrip(".").lower(), port) in self._trusted:
            return resolved
        for result in resolved:
            address = addresses.parse(result["host"])
            if address is None:
                raise BlockedDestination(
                    f"refused to connect: {host} did not resolve to an address"
                )
            kind = addresses.refusal(address)
            if kind is not None:
                raise BlockedDestination(
                    f"refused to connect: {addresses.describe(host, address, kind)}; "
                    f"webhooks may only reach public addresses ({addresses.ALLOW_HINT})"
                )
        return resolved


def new_session(
    *,
    concurrency: int,
    timeout_s: float,
    allow_private: bool = False,
    trusted: Iterable[str] = (),
) -> aiohttp.ClientSession:
    """A session for deliveries. Unless `allow_private`, it connects only to public addresses,
    but for the hosts of the `trusted` URLs: the PagerDuty endpoints the operator configured
    (tests point them at a loopback emulator)."""
    connector: aiohttp.TCPConnector
    if allow_private:
        connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=30)
    else:
        connector = _PublicOnly(trusted=_hosts(trusted), limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, 5.0))
    return aiohttp.ClientSession(connector=connector, timeout=timeout, raise_for_status=False)


def _hosts(urls: Iterable[str]) -> frozenset[tuple[str, int]]:
    found = set()
    for url in urls:
        parsed = URL(url)
        if parsed.raw_host and parsed.port:
            found.add((parsed.raw_host.rstrip(".").lower(), parsed.port))
    return frozenset(found)


async def post_json(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
) -> Response:
    """POST a JSON body within `timeout_s` (the session's own timeout when None); transport
    errors propagate as aiohttp/asyncio exceptions.

    A redirect is answered as it is, never followed: a webhook could otherwise bounce the
    request to an address it may not reach."""
    started = time.perf_counter()
    timeout = (
        aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, 5.0))
        if timeout_s is not None
        else None
    )
    async with session.post(
        url,
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        allow_redirects=False,
        timeout=timeout,
    ) as response:
        payload = await response.read()
        return Response(
            response.status,
            dict(response.headers),
            payload,
            (time.perf_counter() - started) * 1000,
        )

"""Delivery workers: claim outbox rows, send them, record what PagerDuty answered.

One loop makes passes; each pass is one transaction that records every answer that arrived
since the last one and claims what may be sent now, then starts a send for each claimed row.
A pass runs when rows are queued (a wake-up), when answers arrive, and when a retry falls
due; under load answers and new rows gather while a pass commits, so the worker writes once
per round rather than once for its claims and once for its records. On SQLite, where every
write takes its turn with the API's, that is half the turns. A slow row never holds back the
others' records, and a crash re-sends only the rows whose answers were not yet written. The
renewer keeps the short leases of rows held here from running out, so another instance
never takes a row this one is still sending, while a dead instance's rows are free again
within one lease.

Endpoints that are down (rbtk.delivery.outages) get no rows but one probe at a time; their first
answer makes every row waiting for them due at once. Requests still hanging on an endpoint
when it answers again (probes sent while it was down) are cut short and their rows sent again
at once: a hung request would otherwise hold its row until its timeout, then a backoff, well
after the endpoint came back. Sending such a row twice is harmless: the same dedup key only
adds to the incident PagerDuty already has, and a lane's rows stay in order.
"""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import aiohttp

from rbtk import metrics
from rbtk.channels import registry
from rbtk.channels.base import Classifier, Delivery, Endpoint, Limits, Request, Result, Verdict
from rbtk.channels.registry import CHANNELS
from rbtk.context import Context
from rbtk.delivery import http
from rbtk.delivery.outages import Outages
from rbtk.outbox.queue.claim import Claimed, claim, next_pending_at, renew
from rbtk.outbox.queue.record import give_up_expired, record, wake
from rbtk.runtime.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
Attempt = tuple[Claimed, Result]  # a claimed row and what its send came to

_RENEWALS_PER_LEASE = 5
# The answer recorded for a request cut short when its endpoint came back (Deliverer._cut_short).
_CUT_SHORT = Result(
    Verdict.RETRY, None, "no answer while the endpoint was down; sent again once it answered"
)


class Deliverer:
    def __init__(self, context: Context, session: aiohttp.ClientSession) -> None:
        self.context = context
        self.session = session
        self.wake = asyncio.Event()
        settings = context.settings
        self.lease = timedelta(seconds=settings.delivery_lease_s)
        self.outages = Outages(settings.probe_first_s, settings.probe_max_s)
        # Rows claimed here whose answers are not recorded yet, and (monotonic) when each
        # one's lease runs out as far as this process knows: the renewer keeps them held.
        self.held: dict[int, Claimed] = {}
        self.lease_ends: dict[int, float] = {}
        self.batch = settings.delivery_batch
        self.answers: asyncio.Queue[Attempt] = asyncio.Queue()
        self.recovered: set[Endpoint] = set()  # endpoints whose waiting rows are to be woken
        self.sends: set[asyncio.Task[None]] = set()
        # Requests in flight: each row's, its endpoint, and (monotonic) when it was sent.
        self.requests: dict[int, tuple[asyncio.Future[Result], Endpoint, float]] = {}
        # Each channel at its own pace: its budget, its timeout, its sends in flight.
        self.channels = CHANNELS
        self.limits = {kind: c.limits(settings) for kind, c in CHANNELS.items()}
        self.rates = registry.rates(settings)
        self.in_flight = {
            kind: asyncio.Semaphore(limits.concurrency) for kind, limits in self.limits.items()
        }
        self.io = {kind: _Io(context, session, limits) for kind, limits in self.limits.items()}

    async def run(self, stop: asyncio.Event) -> None:
        renewer = asyncio.create_task(self._renew_leases(), name="delivery-leases")
        try:
            await self._pass_loop(stop)
            # Let in-flight sends finish and their answers be written before stopping.
            while self.sends or not self.answers.empty():
                if self.sends:
                    await asyncio.wait(set(self.sends))
                try:
                    await self._pass(claiming=False)
                except Exception:
                    log.exception("recording answers failed; retrying in 1 s")
                    await asyncio.sleep(1.0)
        finally:
            # Cut short (cancelled): a row whose answer was not written is re-sent later.
            for task in (*self.sends, renewer):
                task.cancel()
            for io in self.io.values():
                io.close()

    async def _pass_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before the pass, so a wake-up that arrives during it is not lost.
            self.wake.clear()
            try:
                claimed, asked = await self._pass(claiming=True)
            except Exception:
                # A database hiccup must not end delivery: log it and try again shortly.
                log.exception("delivery pass failed; retrying in 1 s")
                pause = 1.0
            else:
                if self.wake.is_set():  # rows queued or answers arrived during the pass
                    continue
                if asked and claimed >= asked and len(self.held) < self.batch:
                    # The claim was cut at its limit: more may be due. One that took less
                    # took all that was due: rows queued since come with a wake-up, and
                    # another claim now would only take a write turn the ingest needs.
                    continue
                # Full: answers wake the loop as they free room.
                full = len(self.held) >= self.batch
                pause = 5.0 if full else await asyncio.to_thread(self._idle_for)
            probe_in = self.outages.next_probe_in(time.monotonic())
            if probe_in is not None:
                pause = min(pause, probe_in)
            if pause > 0:
                waiters = [asyncio.ensure_future(e.wait()) for e in (self.wake, stop)]
                await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()

    async def _pass(self, *, claiming: bool) -> tuple[int, int]:
        """Record the answers that arrived and claim what may be sent now, in one
        transaction; start sending what was claimed. Answer how many rows were claimed and
        how many (besides probes) were asked for."""
        answers = _drain(self.answers)
        recovered, self.recovered = self.recovered, set()
        room = max(self.batch - len(self.held) + len(answers), 0) if claiming else 0
        probes = self.outages.probes_due(time.monotonic()) if claiming else []
        if not answers and not recovered and not room and not probes:
            return 0, 0
        claimed_at = time.monotonic()
        try:
            claimed = await asyncio.to_thread(self._write, answers, recovered, room, probes)
        except Exception:
            # Unrecorded rows stay held (their leases renewed) until a pass succeeds.
            for answer in answers:
                self.answers.put_nowait(answer)
            self.recovered |= recovered
            raise
        for row, result in answers:
            self._release(row.id)
            metrics.observe_delivery(row.channel, row.connector_name, row.channel_name, result)
            log.info(
                "delivery %s to %s: %s (%s) %s",
                row.id,
                row.to,
                result.verdict.value,
                result.http_status,
                result.message,
            )
        for row in claimed:
            self.held[row.id] = row
            self.lease_ends[row.id] = claimed_at + self.lease.total_seconds()
            task = asyncio.create_task(self._deliver(row))
            self.sends.add(task)
            task.add_done_callback(self.sends.discard)
        return len(claimed), room

    def _write(
        self,
        answers: list[Attempt],
        recovered: set[Endpoint],
        limit: int,
        probes: list[Endpoint],
    ) -> list[Claimed]:
        settings = self.context.settings
        now = datetime.now(UTC)
        taken: list[Claimed] = []
        with self.context.engine.begin() as connection:
            record(connection, answers, now=now, settings=settings)
            for endpoint in recovered:
                woken = wake(connection, endpoint, now=now)
                if woken:
                    log.info("%s answered again: %d waiting rows are due now", endpoint, woken)
            if limit:
                taken += claim(
                    connection,
                    now=now,
                    limit=limit,
                    lease=self.lease,
                    rates=self.rates,
                    exclude=self.outages.failing(),
                )
            for endpoint in probes:
                give_up_expired(connection, endpoint, now=now, max_age_s=settings.max_retry_age_s)
                taken += claim(
                    connection,
                    now=now,
                    limit=1,
                    lease=self.lease,
                    rates=self.rates,
                    probe=endpoint,
                )
        return taken

    async def _deliver(self, row: Claimed) -> None:
        # Each channel has its own sends in flight: a slow Slack never holds PagerDuty's.
        async with self.in_flight[row.channel]:
            # A lease that may run out before the answer could let another instance send the
            # row too (the renewer fell behind, the database is unreachable): leave the row
            # to run out and be claimed again rather than risk sending it twice.
            remaining = self.lease_ends.get(row.id, 0.0) - time.monotonic()
            if remaining < self.limits[row.channel].timeout_s:
                log.warning("delivery %s not sent: its lease is about to run out", row.id)
                self._release(row.id)
                return
            sent_at = time.monotonic()
            result = await self._request(row, sent_at)
        endpoint = row.endpoint_at
        if result is _CUT_SHORT:
            self.recovered.add(endpoint)  # woken in the pass that records it: due at once
        elif result.endpoint_down:
            if self.outages.failed(endpoint, time.monotonic(), sent_at):
                log.warning(
                    "%s is down (%s): probing it with one row at a time until it answers",
                    _name(endpoint),
                    result.message,
                )
        else:
            was_down = endpoint in self.outages.failing()
            if self.outages.succeeded(endpoint, time.monotonic()):
                self.recovered.add(endpoint)
            if was_down:
                self._cut_short(endpoint, sent_before=sent_at)
        self.answers.put_nowait((row, result))
        self.wake.set()  # lanes unblocked, room freed, rows woken: a pass records it

    async def _request(self, row: Claimed, sent_at: float) -> Result:
        """The row's answer, or `_CUT_SHORT` when `_cut_short` ended its request."""
        request = asyncio.ensure_future(self._send(row))
        self.requests[row.id] = (request, row.endpoint_at, sent_at)
        try:
            await asyncio.wait({request})
        finally:
            self.requests.pop(row.id, None)
            request.cancel()  # when the worker itself is cancelled mid-request
        return _CUT_SHORT if request.cancelled() else request.result()

    def _cut_short(self, endpoint: Endpoint, *, sent_before: float) -> None:
        """`endpoint` answered a request sent at `sent_before`: those sent to it earlier and
        still unanswered hung while it was down, and are ended now (their rows sent again)."""
        for request, bound_for, sent_at in list(self.requests.values()):
            if bound_for == endpoint and sent_at < sent_before:
                request.cancel()

    def _release(self, row_id: int) -> None:
        self.held.pop(row_id, None)
        self.lease_ends.pop(row_id, None)

    async def _renew_leases(self) -> None:
        every = self.lease.total_seconds() / _RENEWALS_PER_LEASE
        while True:
            await asyncio.sleep(every)
            ids = list(self.held)
            if not ids:
                continue
            renewed_at = time.monotonic()
            try:
                await asyncio.to_thread(self._renew, ids)
            except Exception:
                log.exception("renewing %d leases failed; retrying", len(ids))
                continue
            for row_id in ids:
                if row_id in self.lease_ends:
                    self.lease_ends[row_id] = renewed_at + self.lease.total_seconds()

    def _renew(self, row_ids: list[int]) -> None:
        with self.context.engine.begin() as connection:
            renew(connection, row_ids, until=datetime.now(UTC) + self.lease)

    def _idle_for(self) -> float:
        with self.context.reads.connect() as connection:
            due = next_pending_at(connection, self.outages.failing())
        if due is None:
            return 5.0
        return min(1.0, max(0.2, (due - datetime.now(UTC)).total_seconds()))

    async def _send(self, row: Claimed) -> Result:
        try:
            return await self._dispatch(row)
        except Exception as exc:
            # A row that throws is retried later, never allowed to stop the worker.
            log.exception("delivery %s failed unexpectedly", row.id)
            return Result(Verdict.RETRY, None, f"internal error: {type(exc).__name__}")

    async def _dispatch(self, row: Claimed) -> Result:
        channel = self.channels[row.channel]
        secret = self.context.vault.decrypt(row.destination) if row.destination else None
        return await channel.send(Delivery(row.body, row.endpoint, secret), self.io[row.channel])


class _Io:
    """What one channel sends with: the shared HTTP session at the channel's own timeout,
    and the channel's own thread pool for blocking sends (SMTP), sized to its concurrency,
    so a slow mail server never takes the threads the scheduler and the database use."""

    def __init__(self, context: Context, session: aiohttp.ClientSession, limits: Limits) -> None:
        self.context = context  # its settings read when sending: tests point SMTP elsewhere
        self.session = session
        self.limits = limits
        self._pool: ThreadPoolExecutor | None = None

    @property
    def settings(self) -> Settings:
        return self.context.settings

    async def post(self, request: Request, classify: Classifier, peer: str) -> Result:
        url = request.url
        try:
            response = await http.post_json(
                self.session,
                url,
                request.body,
                headers=request.headers,
                timeout_s=self.limits.timeout_s,
            )
        except TimeoutError:
            return Result(Verdict.RETRY, None, f"timed out waiting for {peer}", endpoint_down=True)
        except http.BlockedDestination as exc:  # an internal address: retrying cannot help
            return Result(Verdict.FAILED, None, str(exc))
        except aiohttp.ClientError as exc:
            reason = _describe(exc).replace(url, f"the {peer} URL")  # a webhook URL is a secret
            said = f"could not reach {peer}: {reason}"
            return Result(Verdict.RETRY, None, said, endpoint_down=True)
        result = classify(response.status, response.headers, response.body)
        return replace(result, latency_ms=round(response.latency_ms, 2))

    def blocking(self, call: Callable[[], T]) -> Awaitable[T]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.limits.concurrency, "rbtk-send")
        return asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _name(endpoint: Endpoint) -> str:
    if endpoint.scope:  # the address is a secret: name the channel instead
        return f"the {endpoint.channel} channel {endpoint.scope}"
    return f"the {endpoint.channel} endpoint {endpoint.address}"


def _drain(queue: "asyncio.Queue[Attempt]") -> list[Attempt]:
    drained = []
    while not queue.empty():
        drained.append(queue.get_nowait())
    return drained


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return json.dumps(text)[1:-1][:300]

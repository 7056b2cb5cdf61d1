"""Delivery workers: claim outbox rows, send them, record what PagerDuty answered."""

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import aiohttp

from rbtk.channels import email, pagerduty, slack
from rbtk.channels.base import Result, Verdict
from rbtk.channels.pagerduty_body import encode
from rbtk.delivery import http
from rbtk.outbox.queue import Claimed, claim, next_pending_at, record
from rbtk.runtime import metrics
from rbtk.runtime.context import Context

log = logging.getLogger(__name__)

Classifier = Callable[[int, Mapping[str, str], bytes], Result]


class Deliverer:
    def __init__(self, context: Context, session: aiohttp.ClientSession) -> None:
        self.context = context
        self.session = session
        self.wake = asyncio.Event()
        settings = context.settings
        # A claimed batch is sent in waves of `delivery_concurrency`, each bounded by the
        # request timeout: the lease outlasts the whole batch, so no other instance can
        # take a row that is still being sent here.
        waves = -(-settings.delivery_batch // settings.delivery_concurrency)
        self.lease = timedelta(seconds=settings.pagerduty_timeout_s * waves + 10)
        self.sending = asyncio.Semaphore(settings.delivery_concurrency)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before the pass, so a wake-up that arrives during it is not lost.
            self.wake.clear()
            try:
                sent = await self.deliver_once()
            except Exception:
                # A database hiccup must not end delivery: log it and try again shortly.
                log.exception("delivery pass failed; retrying in 1 s")
                sent, pause = 0, 1.0
            else:
                pause = 0.0 if sent else await asyncio.to_thread(self._idle_for)
            if pause:
                waiters = [asyncio.ensure_future(e.wait()) for e in (self.wake, stop)]
                await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()

    async def deliver_once(self) -> int:
        claimed = await asyncio.to_thread(self._claim)
        if not claimed:
            return 0
        results = await asyncio.gather(*(self._send(row) for row in claimed))
        outcomes = list(zip(claimed, results, strict=True))
        await asyncio.to_thread(self._record, outcomes)
        for row, result in outcomes:
            metrics.observe_delivery(row.connector_name, result)
            log.info(
                "delivery %s to %s: %s (%s) %s",
                row.id,
                row.connector_name,
                result.verdict.value,
                result.http_status,
                result.message,
            )
        return len(claimed)

    def _claim(self) -> list[Claimed]:
        settings = self.context.settings
        with self.context.engine.begin() as connection:
            return claim(
                connection,
                now=datetime.now(UTC),
                limit=settings.delivery_batch,
                lease=self.lease,
                rate_per_min=settings.pagerduty_rate_per_min,
            )

    def _record(self, outcomes: list[tuple[Claimed, Result]]) -> None:
        with self.context.engine.begin() as connection:
            record(connection, outcomes, now=datetime.now(UTC), settings=self.context.settings)

    def _idle_for(self) -> float:
        with self.context.engine.connect() as connection:
            due = next_pending_at(connection)
        if due is None:
            return 5.0
        return min(1.0, max(0.2, (due - datetime.now(UTC)).total_seconds()))

    async def _send(self, row: Claimed) -> Result:
        try:
            async with self.sending:
                return await self._dispatch(row)
        except Exception as exc:
            # A row that throws is retried later, never allowed to stop the worker.
            log.exception("delivery %s failed unexpectedly", row.id)
            return Result(Verdict.RETRY, None, f"internal error: {type(exc).__name__}")

    async def _dispatch(self, row: Claimed) -> Result:
        if row.channel == "email":
            return await asyncio.to_thread(email.send_now, self.context.settings, row.body)
        if row.channel == "slack":
            url = self.context.vault.decrypt(row.destination).reveal()
            return await self._post(url, encode(row.body), slack.classify, "Slack")
        key = self.context.vault.decrypt(row.destination)
        body = encode({"routing_key": key.reveal(), **row.body})
        return await self._post(row.endpoint, body, pagerduty.classify, "PagerDuty")

    async def _post(self, url: str, body: bytes, classify: Classifier, peer: str) -> Result:
        try:
            response = await http.post_json(self.session, url, body)
        except TimeoutError:
            return Result(Verdict.RETRY, None, f"timed out waiting for {peer}")
        except http.BlockedDestination as exc:  # an internal address: retrying cannot help
            return Result(Verdict.FAILED, None, str(exc))
        except aiohttp.ClientError as exc:
            reason = _describe(exc).replace(url, f"the {peer} URL")  # a webhook URL is a secret
            return Result(Verdict.RETRY, None, f"could not reach {peer}: {reason}")
        result = classify(response.status, response.headers, response.body)
        return Result(
            result.verdict,
            result.http_status,
            result.message,
            result.errors,
            result.retry_after_s,
            round(response.latency_ms, 2),
        )


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return json.dumps(text)[1:-1][:300]

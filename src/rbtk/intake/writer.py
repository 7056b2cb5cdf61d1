"""Group commit: requests hand their events to one writer, which stores everything waiting
in one transaction and then answers each request with its own results.

One transaction per request made every request pay its own commit and, on SQLite, race the
other request threads for the one write lock (its busy handler sleeps rather than queues).
One writer per process ends the race, and a burst costs one commit per group: while a group
commits, the next one gathers. No request is answered before its events are committed.
"""

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import OperationalError

from rbtk.context import Context
from rbtk.intake.ingest import BatchResult, ingest_all
from rbtk.store.storage import storage_problem

log = logging.getLogger(__name__)

MAX_GROUP_EVENTS = 5000  # events per transaction: bounds how long one commit holds the lock


@dataclass(frozen=True)
class _Request:
    events: Sequence[object]
    answer: Future[BatchResult] = field(default_factory=Future)


class Writer:
    """The one thread of this process that stores events. Started on first use."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._waiting: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    async def ingest(self, raw_events: Sequence[object]) -> BatchResult:
        """Store the events (each validated on its own); answer once they are committed."""
        request = _Request(raw_events)
        self._start()
        self._waiting.put(request)
        return await asyncio.wrap_future(request.answer)

    def close(self) -> None:
        """Store what is waiting, then stop."""
        thread = self._thread
        if thread is not None:
            self._waiting.put(None)
            thread.join()
            self._thread = None

    def _start(self) -> None:
        with self._starting:
            if self._thread is None:
                # A daemon: if the process exits without close(), an uncommitted group was
                # never answered, so its senders retry: nothing acknowledged is lost.
                self._thread = threading.Thread(target=self._run, name="rbtk-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._waiting.get()
            if first is None:
                return
            group, size, stopping = [first], len(first.events), False
            while size < MAX_GROUP_EVENTS:
                try:
                    more = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
                size += len(more.events)
            self._commit(group)
            if stopping:
                return

    def _commit(self, group: list[_Request]) -> None:
        try:
            results = ingest_all(self._context, [r.events for r in group], datetime.now(UTC))
        except Exception as exc:
            if len(group) > 1 and not _storage_failed(exc):
                # Something in one request broke the group: store each request on its own,
                # so one bad request never costs the others.
                log.warning("a group of %d requests failed; storing them one by one", len(group))
                for request in group:
                    self._commit([request])
                return
            for request in group:
                request.answer.set_exception(exc)
            return
        for request, result in zip(group, results, strict=True):
            request.answer.set_result(result)


def _storage_failed(exc: Exception) -> bool:
    """The database itself refused (full, read-only, unreachable): every request would."""
    return isinstance(exc, OperationalError) and storage_problem(exc) is not None

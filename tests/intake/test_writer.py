"""Group commit: requests waiting while a group commits are stored together, each answered
with its own results, and none answered before its events are committed."""

import asyncio
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from rbtk.context import Context
from rbtk.intake.ingest import Acceptance, BatchResult, ingest_all
from rbtk.intake.writer import Writer
from rbtk.policy.events import parse_event
from rbtk.store.tables import events, outbox
from tests.factories import add_connector, pool_offline, pool_online

Groups = list[list[Sequence[object]]]


def since(minutes: float) -> datetime:
    return datetime.now().astimezone() - timedelta(minutes=minutes)


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> tuple[Groups, threading.Event]:
    """Every group the writer commits; the first one waits for `release` before committing."""
    seen: Groups = []
    release = threading.Event()

    def recording(
        context: Context, requests: Sequence[Sequence[object]], now: datetime
    ) -> list[BatchResult]:
        if not seen:
            release.wait(10)
        seen.append(list(requests))
        return ingest_all(context, requests, now)

    monkeypatch.setattr("rbtk.intake.writer.ingest_all", recording)
    return seen, release


def stored(context: Context) -> int:
    with context.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(events)).scalar_one())


async def submit_while_first_commits(
    context: Context,
    release: threading.Event,
    first: Sequence[object],
    rest: Sequence[Sequence[object]],
) -> list[BatchResult]:
    writer = Writer(context)
    try:
        head = asyncio.ensure_future(writer.ingest(first))
        await asyncio.sleep(0.1)  # the writer has taken the first request and waits
        tail = [asyncio.ensure_future(writer.ingest(r)) for r in rest]
        await asyncio.sleep(0.1)
        assert not head.done() and not any(t.done() for t in tail)  # nothing answered early
        release.set()
        return list(await asyncio.gather(head, *tail))
    finally:
        await asyncio.to_thread(writer.close)


def test_requests_that_wait_are_committed_together_and_each_gets_its_own_answer(
    context: Context, groups: tuple[Groups, threading.Event]
) -> None:
    seen, release = groups
    add_connector(context, now=since(0))
    first = [pool_offline("e0", since(20), "pool-0")]
    rest: list[list[object]] = [
        [pool_offline("e1", since(20), "pool-1")],
        [pool_online("e2", since(0), "pool-0"), "not an event"],
        [pool_offline("e1", since(20), "pool-1")],  # the same event again, in the same group
        [pool_offline("e3", since(20), "pool-3")],
    ]

    answers = asyncio.run(submit_while_first_commits(context, release, first, rest))

    assert [len(group) for group in seen] == [1, 4]
    assert [[(i.id, i.status) for i in a.items] for a in answers] == [
        [("e0", Acceptance.ACCEPTED)],
        [("e1", Acceptance.ACCEPTED)],
        [("e2", Acceptance.ACCEPTED), (None, Acceptance.REJECTED)],
        [("e1", Acceptance.DUPLICATE)],
        [("e3", Acceptance.ACCEPTED)],
    ]
    with context.engine.connect() as connection:
        pages = connection.execute(
            select(outbox.c.action, outbox.c.dedup_key).order_by(outbox.c.id)
        )
        assert [tuple(p) for p in pages] == [
            ("trigger", "rbtk:pool-offline:warehouse:pool-0"),
            ("trigger", "rbtk:pool-offline:warehouse:pool-1"),
            ("resolve", "rbtk:pool-offline:warehouse:pool-0"),
            ("trigger", "rbtk:pool-offline:warehouse:pool-3"),
        ]


def test_a_request_that_breaks_its_group_costs_the_other_requests_nothing(
    context: Context, groups: tuple[Groups, threading.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, release = groups

    def poisoned(raw: object) -> object:
        if isinstance(raw, dict) and raw.get("id") == "poison":
            raise RuntimeError("a bug this event finds")
        return parse_event(raw)

    monkeypatch.setattr("rbtk.intake.ingest.parse_event", poisoned)
    rest = [
        [pool_online("e1", since(0), "a")],
        [pool_online("poison", since(0), "b")],
        [pool_online("e2", since(0), "c")],
    ]

    async def run() -> list[BaseException | BatchResult]:
        writer = Writer(context)
        try:
            head = asyncio.ensure_future(writer.ingest([pool_online("e0", since(0), "z")]))
            await asyncio.sleep(0.1)
            tail = [asyncio.ensure_future(writer.ingest(r)) for r in rest]
            await asyncio.sleep(0.1)
            release.set()
            return list(await asyncio.gather(head, *tail, return_exceptions=True))
        finally:
            await asyncio.to_thread(writer.close)

    answers = asyncio.run(run())

    assert isinstance(answers[2], RuntimeError)
    assert [a.items[0].status for a in answers if isinstance(a, BatchResult)] == [
        Acceptance.ACCEPTED
    ] * 3
    assert stored(context) == 3


def test_closing_the_writer_stores_what_is_waiting(context: Context) -> None:
    async def run() -> BatchResult:
        writer = Writer(context)
        pending = asyncio.ensure_future(writer.ingest([pool_online("e1", since(0), "a")]))
        await asyncio.sleep(0)
        await asyncio.to_thread(writer.close)
        return await pending

    answer = asyncio.run(run())

    assert answer.items[0].status is Acceptance.ACCEPTED
    assert stored(context) == 1

"""Ingest: events/s accepted through POST /api/v1/events, one event or 500 per request.

The events are `runner_pool.offline` for distinct air-gapped pools whose last heartbeat was
just now, so each one creates a condition with a due time 15 minutes out and pages nothing:
the figure is the ingest path alone (parse, store, policy, condition upsert, commit), with
no delivery load on the machine.

    .venv/bin/python bench/ingest.py --db sqlite --mode single
    .venv/bin/python bench/ingest.py --db postgresql --mode batch
"""

import argparse
import asyncio
import time
from datetime import UTC, datetime

from harness import (
    DATABASES,
    Stack,
    client_session,
    log,
    pool_offline,
    post_events,
    run_clients,
    run_id,
    running_stack,
)

BATCH = 500


def make_events(tag: str, count: int) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    return [
        pool_offline(f"{tag}-{i}", f"pool-{tag}-{i}", occurred_at=now, last_heartbeat_at=now)
        for i in range(count)
    ]


async def load(stack: Stack, events: list[dict[str, object]], mode: str, clients: int) -> float:
    """Post the events; answer the seconds it took."""
    if mode == "single":
        jobs: list[object] = list(events)
    else:
        jobs = [{"events": events[i : i + BATCH]} for i in range(0, len(events), BATCH)]
    async with client_session(clients) as session:

        async def send(job: object) -> None:
            expect = len(job["events"]) if isinstance(job, dict) and "events" in job else 1
            await post_events(session, stack, job, expect=expect)

        started = time.perf_counter()
        await run_clients(jobs, clients, send)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=DATABASES, default="sqlite")
    parser.add_argument("--mode", choices=("single", "batch"), default="single")
    parser.add_argument("-n", type=int, help="events to post (default 5,000 single, 50,000 batch)")
    parser.add_argument("--clients", type=int, help="concurrent clients (default 16 / 2)")
    args = parser.parse_args()
    count = args.n or (5_000 if args.mode == "single" else 50_000)
    clients = args.clients or (16 if args.mode == "single" else 2)
    tag = run_id()
    with running_stack(args.db) as stack:
        warmup = make_events(f"warm{tag}", 500 if args.mode == "single" else 2 * BATCH)
        asyncio.run(load(stack, warmup, args.mode, clients))
        events = make_events(tag, count)
        log(f"posting {count} events, {args.mode}, {clients} clients")
        with stack.cpu_report():
            elapsed = asyncio.run(load(stack, events, args.mode, clients))
        if stack.outbox_count():
            raise RuntimeError("ingest events paged: the figure would include delivery")
    unit = "1 event" if args.mode == "single" else f"{BATCH} events"
    print(
        f"ingest {args.db} {args.mode}: {count / elapsed:,.0f} events/s "
        f"(n={count}, {unit} per request, {clients} clients, {elapsed:.1f} s)"
    )


if __name__ == "__main__":
    main()

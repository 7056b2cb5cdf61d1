"""Delivery: pages/s from accepted event to emulator receipt, 10,000 distinct pages.

Posts 10,000 `runner_pool.offline` events for distinct air-gapped pools whose 15-minute
threshold passed long ago (offline since 20 minutes ago), in batches of 500 from two
clients, with the per-key send budget lifted (RBTK_PAGERDUTY_RATE_PER_MIN=0). Each event
pages at once, so the outbox fills while ingest is still running and the delivery workers
drain it into the emulator.

rate = pages / (last emulator receipt - first POST sent). The clock starts when the first
batch is sent, before any of it is accepted, so the figure includes ingest and is
conservative.

    .venv/bin/python bench/delivery.py --db sqlite
"""

import argparse
import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from harness import (
    ALERTMANAGER_PER_S,
    DATABASES,
    SINKS,
    Stack,
    client_session,
    dedup_key,
    direct_rate,
    log,
    pool_offline,
    post_events,
    received_at,
    run_clients,
    run_id,
    running_stack,
)

BATCH = 500
CLIENTS = 2


async def post_all(stack: Stack, batches: Sequence[list[dict[str, object]]]) -> float:
    """Post every batch; answer when the first one was sent (Unix time)."""
    async with client_session(CLIENTS) as session:

        async def send(batch: object) -> None:
            assert isinstance(batch, list)
            await post_events(session, stack, {"events": batch}, expect=len(batch))

        first_sent = time.time()
        await run_clients(batches, CLIENTS, send)
        return first_sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=DATABASES, default="sqlite")
    parser.add_argument("-n", type=int, default=10_000, help="distinct pages (default 10,000)")
    parser.add_argument(
        "--sink",
        choices=SINKS,
        default="emulator",
        help="deliver to the PagerDuty emulator (default) or to bench/sink.py, a bare 202",
    )
    args = parser.parse_args()
    tag = run_id()
    offline_since = datetime.now(UTC) - timedelta(minutes=20)
    pools = [f"pool-{tag}-{i}" for i in range(args.n)]
    events = [
        pool_offline(f"{tag}-{i}", pool, occurred_at=offline_since, last_heartbeat_at=offline_since)
        for i, pool in enumerate(pools)
    ]
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    with running_stack(args.db, rate_per_min=0, sink=args.sink) as stack:
        with stack.cpu_report():
            first_sent = asyncio.run(post_all(stack, batches))
            all_accepted = time.time()
            log(f"all {args.n} accepted after {all_accepted - first_sent:.2f} s")
            stack.wait_delivered(args.n, timeout_s=110)
        received = {
            e["dedup_key"]: received_at(e)
            for e in stack.emulator_events()
            if e["event_action"] == "trigger"
        }
        # The receiving end shares the machine: how fast does it go without rbtk in front?
        ceiling = asyncio.run(direct_rate(stack, args.n))
        log(f"{args.sink} alone: {ceiling:,.0f} req/s from one aiohttp client, 64 in flight")
    missing = [pool for pool in pools if dedup_key(pool) not in received]
    if missing:
        raise RuntimeError(f"{len(missing)} pages never reached the emulator, e.g. {missing[0]}")
    times = [received[dedup_key(pool)] for pool in pools]
    elapsed = max(times) - first_sent
    during = sum(1 for t in times if t <= all_accepted)
    log(
        f"{during} delivered while ingest ran ({all_accepted - first_sent:.1f} s), "
        f"{args.n - during} after it ({max(times) - all_accepted:.1f} s)"
    )
    per_second = [0] * (int(elapsed) + 1)
    for t in times:
        per_second[int(t - first_sent)] += 1
    log("receipts per second since the first POST: " + " ".join(map(str, per_second)))
    rate = args.n / elapsed
    into = "" if args.sink == "emulator" else " into a bare 202 sink, not the emulator"
    sink = "emulator" if args.sink == "emulator" else "sink"
    print(
        f"delivery {args.db}{into}: {rate:,.0f} pages/s (n={args.n}, first POST to last receipt "
        f"{elapsed:.1f} s; Alertmanager ~{ALERTMANAGER_PER_S:,}/s in memory: "
        f"{rate / ALERTMANAGER_PER_S:.2f}x; the {sink} alone takes {ceiling:,.0f} req/s here)"
    )


if __name__ == "__main__":
    main()

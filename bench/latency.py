"""End to end: latency from an event's POST to the emulator's receipt of its page, p50/p99.

Sends single `runner_pool.offline` events at a steady open-loop rate (default 200/s for
20 s), each for a distinct air-gapped pool offline since 20 minutes ago, so each one pages
at once. A send is never held back by a slow answer: every event leaves on its schedule.
Each page is matched to its event by dedup key; latency = emulator `received_at` - the
moment the POST was sent (same machine, same clock).

    .venv/bin/python bench/latency.py --db sqlite
"""

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

from harness import (
    DATABASES,
    Stack,
    client_session,
    dedup_key,
    log,
    ms,
    percentile,
    pool_offline,
    post_events,
    received_at,
    run_id,
    running_stack,
)


async def steady_load(
    stack: Stack, rate: float, seconds: float, tag: str
) -> tuple[dict[str, float], dict[str, float]]:
    """Send rate x seconds events on schedule; answer send and answer times by pool."""
    count = int(rate * seconds)
    offline_since = datetime.now(UTC) - timedelta(minutes=20)
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    async with client_session(1024) as session:

        async def one(i: int) -> None:
            pool = f"pool-{tag}-{i}"
            event = pool_offline(
                f"{tag}-{i}", pool, occurred_at=offline_since, last_heartbeat_at=offline_since
            )
            sent[pool] = time.time()
            await post_events(session, stack, event, expect=1)
            answered[pool] = time.time()

        tasks = []
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        behind = time.perf_counter() - (start + (count - 1) / rate)
        if behind > 0.5:
            log(f"the sender fell {behind:.1f} s behind its schedule")
        await asyncio.gather(*tasks)
    return sent, answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=DATABASES, default="sqlite")
    parser.add_argument("--rate", type=float, default=200.0, help="events/s (default 200)")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration (default 20)")
    args = parser.parse_args()
    tag = run_id()
    with running_stack(args.db, rate_per_min=0) as stack:
        asyncio.run(steady_load(stack, args.rate, 1.0, f"warm{tag}"))  # warm-up, not counted
        warm = int(args.rate)
        with stack.cpu_report():
            started = time.time()
            sent, answered = asyncio.run(steady_load(stack, args.rate, args.seconds, tag))
            log(f"{len(sent)} events sent in {time.time() - started:.1f} s")
            stack.wait_delivered(warm + len(sent), timeout_s=90)
        received = {
            e["dedup_key"]: received_at(e)
            for e in stack.emulator_events()
            if e["event_action"] == "trigger"
        }
    missing = [pool for pool in sent if dedup_key(pool) not in received]
    if missing:
        raise RuntimeError(f"{len(missing)} pages never reached the emulator, e.g. {missing[0]}")
    latencies = [received[dedup_key(pool)] - at for pool, at in sent.items()]
    answers = [answered[pool] - at for pool, at in sent.items()]
    log(
        f"API answer p50 {ms(percentile(answers, 50))}, p99 {ms(percentile(answers, 99))}; "
        f"event to receipt max {ms(max(latencies))}"
    )
    # Open loop: when rbtk cannot keep up, requests queue and latency is mostly that queue.
    answered_rate = len(sent) / (max(answered.values()) - min(sent.values()))
    kept_up = "kept up" if answered_rate >= 0.95 * args.rate else "did NOT keep up"
    print(
        f"latency {args.db}: p50 {ms(percentile(latencies, 50))}, "
        f"p99 {ms(percentile(latencies, 99))} "
        f"(n={len(latencies)} pages offered at {args.rate:.0f} events/s for {args.seconds:.0f} s, "
        f"answered at {answered_rate:.0f}/s: {kept_up}; POST sent to emulator receipt)"
    )


if __name__ == "__main__":
    main()

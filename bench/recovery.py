"""Recovery: how soon a backlog drains once PagerDuty comes back, and how hard a failing
PagerDuty is hit meanwhile.

Starts the stack with bench/sink.py in place of PagerDuty, switches the sink to an outage
(`--kind fail`: every request answered 500; `--kind hang`: every request accepted and never
answered, so each attempt runs into rbtk's request timeout), posts `-n` pages (distinct
air-gapped pools offline since 20 minutes ago, so each pages at once), keeps the outage up
for `--outage-s` seconds, then ends it and waits until every page has been accepted.

Figures: seconds from the end of the outage to the first and to the last accepted page
(the drain), and the requests per minute the sink received during the outage.

    .venv/bin/python bench/recovery.py --db sqlite --kind fail --outage-s 120
"""

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx

from harness import (
    DATABASES,
    Stack,
    client_session,
    dedup_key,
    log,
    pool_offline,
    post_events,
    received_at,
    run_id,
    running_stack,
)

KINDS = ("fail", "hang")


def set_mode(sink_url: str, mode: str) -> None:
    httpx.put(f"{sink_url}/_control/mode", json={"mode": mode}, timeout=10).raise_for_status()


def requests_in(sink_url: str, mode: str) -> list[float]:
    listed = httpx.get(f"{sink_url}/_inspect/requests", timeout=60).json()["requests"]
    return [received_at(r) for r in listed if r["mode"] == mode]


async def post_pages(stack: Stack, events: list[dict[str, object]]) -> None:
    async with client_session(1) as session:
        await post_events(session, stack, {"events": events}, expect=len(events))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=DATABASES, default="sqlite")
    parser.add_argument("--kind", choices=KINDS, default="fail", help="500s (default) or hangs")
    parser.add_argument("--outage-s", type=float, default=120.0, help="outage length (120)")
    parser.add_argument("-n", type=int, default=100, help="pages queued (default 100)")
    parser.add_argument("--drain-timeout-s", type=float, default=900.0)
    args = parser.parse_args()
    tag = run_id()
    offline_since = datetime.now(UTC) - timedelta(minutes=20)
    pools = [f"pool-{tag}-{i}" for i in range(args.n)]
    events: list[dict[str, object]] = [
        pool_offline(f"{tag}-{i}", pool, occurred_at=offline_since, last_heartbeat_at=offline_since)
        for i, pool in enumerate(pools)
    ]
    with running_stack(args.db, rate_per_min=0, sink="raw") as stack:
        sink = stack.emulator_url
        set_mode(sink, args.kind)
        outage_started = time.time()
        asyncio.run(post_pages(stack, events))
        log(f"{args.n} pages queued; {args.kind} outage for {args.outage_s:.0f} s")
        with stack.cpu_report():
            time.sleep(max(0.0, outage_started + args.outage_s - time.time()))
            set_mode(sink, "ok")
            recovered = time.time()
            log(f"outage over; {stack.pending()} rows pending")
            stack.wait_delivered(args.n, timeout_s=args.drain_timeout_s)
        during = requests_in(sink, args.kind)
        received = {
            e["dedup_key"]: received_at(e)
            for e in stack.emulator_events()
            if e["event_action"] == "trigger"
        }
    missing = [pool for pool in pools if dedup_key(pool) not in received]
    if missing:
        raise RuntimeError(f"{len(missing)} pages never reached the sink, e.g. {missing[0]}")
    times = sorted(received[dedup_key(pool)] for pool in pools)
    first, last = times[0] - recovered, times[-1] - recovered
    per_minute = len(during) / ((recovered - outage_started) / 60)
    # the last minute of the outage shows the steady state, after the first wave of attempts
    last_minute = sum(1 for t in during if t >= recovered - 60)
    log(f"requests during the outage: {len(during)}; in its last minute: {last_minute}")
    kind = "500 to everything" if args.kind == "fail" else "every request hung"
    print(
        f"recovery {args.db} after a {args.outage_s:.0f} s outage ({kind}), {args.n} pages: "
        f"drained {last:.1f} s after recovery (first page after {first:.1f} s); "
        f"{per_minute:.1f} requests/min during the outage ({last_minute} in its last minute)"
    )


if __name__ == "__main__":
    main()

"""Storm: a fleet-wide outage, `-n` pools offline at once, then all of them back.

Starts the stack with storm collapse on (a new connector's default: more than 20 new
incidents within `--window-s`, default 60 s), rbtk's PagerDuty budget on (120 a minute) and
the emulator's own rate limit on (120 a minute, a 429 past it). Posts `-n` air-gapped pools
offline since 20 minutes (each pages at once), in batches of `--batch` from `--clients`
clients; waits `--hold-s`; then posts every pool online.

Figures: seconds to ingest the outage; seconds from the first event posted to the umbrella
incident at the emulator; triggers the emulator received; 429s it answered; the peak RSS of
rbtk (serve and its delivery process, each its own VmHWM); and seconds from the last pool
back until the emulator holds no open alert (the storm ends a quiet window after that).

    .venv/bin/python bench/storm.py --db sqlite -n 50000
"""

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from harness import (
    DATABASES,
    PROJECT,
    Stack,
    client_session,
    iso,
    log,
    pool_offline,
    post_events,
    run_clients,
    run_id,
    running_stack,
)


def pool_online(event_id: str, pool: str, at: datetime) -> dict[str, object]:
    return {
        "id": event_id,
        "type": "runner_pool.online",
        "project_slug": PROJECT,
        "occurred_at": iso(at),
        "data": {"pool_name": pool},
    }


def peak_rss_mb(stack: Stack) -> dict[str, float]:
    """Each rbtk process's high-water mark of resident memory."""
    peaks = {}
    for name, pid in stack.pids.items():
        if name.startswith("rbtk"):
            status = Path(f"/proc/{pid}/status").read_text()
            [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
            peaks[name] = int(line.split()[1]) / 1024
    return peaks


async def post_all(stack: Stack, events: list[dict[str, object]], batch: int, clients: int) -> None:
    batches = [events[i : i + batch] for i in range(0, len(events), batch)]
    async with client_session(clients) as session:

        async def worker(chunk: object) -> None:
            assert isinstance(chunk, list)
            await post_events(session, stack, {"events": chunk}, expect=len(chunk))

        await run_clients(batches, clients, worker)


async def first_umbrella(emulator_url: str, stop: asyncio.Event) -> float | None:
    """When the emulator first holds the umbrella (a monotonic time), polling every 50 ms."""
    async with httpx.AsyncClient(timeout=30) as client:
        while not stop.is_set():
            events = (await client.get(f"{emulator_url}/_inspect/events")).json()["events"]
            if any(e["dedup_key"].startswith("rbtk:storm:") for e in events):
                return time.monotonic()
            await asyncio.sleep(0.05)
    return None


async def outage(stack: Stack, pools: list[str], batch: int, clients: int) -> tuple[float, float]:
    """Post every pool offline; answer the seconds to ingest and to the umbrella."""
    now, tag = datetime.now(UTC), run_id()
    offline = [
        pool_offline(
            f"off-{tag}-{pool}",
            pool,
            occurred_at=now,
            last_heartbeat_at=now - timedelta(minutes=20),
        )
        for pool in pools
    ]
    stop = asyncio.Event()
    watcher = asyncio.create_task(first_umbrella(stack.emulator_url, stop))
    started = time.monotonic()
    await post_all(stack, offline, batch, clients)
    ingested = time.monotonic() - started
    try:
        seen = await asyncio.wait_for(watcher, timeout=60)
    except TimeoutError:
        raise RuntimeError("no umbrella at the emulator within 60 s of the outage") from None
    finally:
        stop.set()
    assert seen is not None
    return ingested, seen - started


def open_alerts(emulator_url: str) -> int:
    response = httpx.get(f"{emulator_url}/_inspect/alerts", params={"status": "open"}, timeout=60)
    return len(response.json()["alerts"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=DATABASES, default="sqlite")
    parser.add_argument("-n", type=int, default=50_000, help="pools offline at once")
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--window-s", type=int, default=60, help="the storm window")
    parser.add_argument("--hold-s", type=float, default=10.0, help="how long the outage lasts")
    args = parser.parse_args()

    pools = [f"pool-{i:06}" for i in range(args.n)]
    with running_stack(args.db, rate_per_min=120, storms=True, emulator_rate_per_min=120) as stack:
        if args.window_s != 60:
            httpx.patch(
                f"{stack.url}/api/v1/pagerduty/connectors/bench",
                json={"storm": {"window_s": args.window_s}},
                headers=stack.headers,
                timeout=30,
            ).raise_for_status()
        with stack.cpu_report():
            ingest_s, umbrella_s = asyncio.run(outage(stack, pools, args.batch, args.clients))
        log(f"outage ingested in {ingest_s:.1f} s; umbrella at the emulator {umbrella_s:.2f} s")
        time.sleep(args.hold_s)

        now, tag = datetime.now(UTC), run_id()
        back = [pool_online(f"on-{tag}-{pool}", pool, now) for pool in pools]
        started = time.monotonic()
        with stack.cpu_report():
            asyncio.run(post_all(stack, back, args.batch, args.clients))
        back_s = time.monotonic() - started
        deadline = started + args.window_s + 120
        while open_alerts(stack.emulator_url) and time.monotonic() < deadline:
            time.sleep(0.25)
        closed_s = time.monotonic() - started
        still_open = open_alerts(stack.emulator_url)
        requests = httpx.get(f"{stack.emulator_url}/_inspect/requests", timeout=60).json()
        statuses = [r["status"] for r in requests["requests"]]
        triggers = sum(e["event_action"] == "trigger" for e in stack.emulator_events())
        peaks = peak_rss_mb(stack)

    peak = " + ".join(f"{name} {mb:.0f}" for name, mb in peaks.items())
    print(
        f"storm {args.db} n={args.n}: ingest {ingest_s:.1f} s ({args.n / ingest_s:,.0f}/s), "
        f"umbrella {umbrella_s:.2f} s after the first event, {triggers} triggers and "
        f"{statuses.count(429)} 429s at the emulator, peak RSS {peak} MB "
        f"(largest {max(peaks.values()):.0f} MB); all back in {back_s:.1f} s, "
        f"no open alert {closed_s:.1f} s after the first pool back "
        f"(storm window {args.window_s} s)" + (f"; {still_open} STILL OPEN" if still_open else "")
    )


if __name__ == "__main__":
    main()

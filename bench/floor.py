"""How far a Python service can go here at all: Alertmanager beside two floors, in one run.

The same N distinct alerts, clients and bare sink as bench/vs_alertmanager.py, sent to
bench/floor_relay.py: first as a relay that stores nothing, then as one that stores each
event and records each answer with raw sqlite3 (WAL, synchronous=FULL, group commit) and does
nothing else. Whatever rbtk does beyond that (validation, policy, routing, lanes, budgets,
leases, a delivery log) costs on top; a goal above the second floor cannot be met in Python
on this machine by making rbtk leaner.

    .venv/bin/python bench/floor.py                # one event per request
    .venv/bin/python bench/floor.py --batch 100
"""

import argparse
import asyncio
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import PYTHON, ROOT, dedup_key, free_port, log, pool_offline, run_id
from vs_alertmanager import (
    Figures,
    _wait,
    alertmanager,
    figures,
    jobs,
    peak_rss_mib,
    post,
    received,
    running_sink,
    wait_received,
)


def relay(n: int, batch: int, tag: str, *, durable: bool) -> Figures:
    since = datetime.now(UTC) - timedelta(minutes=20)
    offline = [
        (dedup_key(f"pool-{tag}-{i}"), pool_offline(f"off-{tag}-{i}", f"pool-{tag}-{i}",
                                                     occurred_at=since, last_heartbeat_at=since))
        for i in range(n)
    ]  # fmt: skip
    data_dir = Path(tempfile.mkdtemp(prefix="rbtk-bench-floor-"))
    name = "python relay, stored (raw sqlite3, FULL)" if durable else "python relay, nothing stored"
    try:
        with running_sink(data_dir) as sink:
            port = free_port()
            command = [PYTHON, str(ROOT / "bench" / "floor_relay.py"), str(port), sink]
            process = subprocess.Popen([*command, *(["--durable"] if durable else [])])
            url = f"http://127.0.0.1:{port}"
            try:
                _wait(f"{url}/readyz", process)
                log(f"{name}: posting {n} events, {batch} per request")
                work = jobs(offline, batch, lambda e: e[0] if batch == 1 else {"events": e})
                sent = asyncio.run(post([f"{url}/api/v1/events"], {}, work))
                triggers = (sent, wait_received(sink, "trigger", n, 300))
                rss = peak_rss_mib(process.pid)
            finally:
                process.terminate()
                process.wait(10)
            assert not received(sink, "resolve")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return figures(name, triggers, triggers, lambda e: e["dedup_key"], rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5_000, help="distinct pages (default 5,000)")
    parser.add_argument("--batch", type=int, default=1, help="alerts per request (default 1)")
    args = parser.parse_args()
    tag = run_id()
    am = alertmanager(args.n, args.batch, tag)
    floors = [relay(args.n, args.batch, tag, durable=d) for d in (False, True)]
    unit = "1 per request" if args.batch == 1 else f"batches of {args.batch}"
    print(f"n={args.n}, {unit}, 4 clients, each into its own bare sink on loopback")
    print(am.line())
    for floor in floors:
        ratio = floor.triggers_per_s / am.triggers_per_s
        print(f"{floor.line().split(', resolves')[0]}: {ratio:.2f}x alertmanager")


if __name__ == "__main__":
    main()

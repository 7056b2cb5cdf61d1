"""rbtk against Alertmanager, side by side in one run: the same pages into the same kind of sink.

Both get N distinct alerts (default 5,000) from 4 concurrent clients, one per request or in
batches (`--batch 100`), then their resolves, and deliver them to a bare PagerDuty-shaped sink
(bench/sink.py, one each, on loopback). Alertmanager is Debian's `prometheus-alertmanager`
(installed with apt when missing), HA off, grouped by every label so each alert is its own
incident, `group_wait: 0s`, `group_interval: 1s`; it keeps nothing on disk that a request
waits for. rbtk runs as `rbtk serve` on a fresh database with the send budget lifted, and
stores every event before it answers.

For each: pages/s = N / (last trigger received by the sink - first trigger POST sent);
trigger latency = sink receipt - the moment its POST was sent (p50 / p99); resolves/s the
same way for the resolves; peak RSS = the largest resident set the service (and any process
it started) reached. One line per service, then the ratio.

    .venv/bin/python bench/vs_alertmanager.py                 # one event per request
    .venv/bin/python bench/vs_alertmanager.py --batch 100
    .venv/bin/python bench/vs_alertmanager.py --db postgresql
    .venv/bin/python bench/vs_alertmanager.py --db postgresql --instances 2   # one database
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from harness import (
    DATABASES,
    HOST,
    INTEGRATION_KEY,
    PROJECT,
    PYTHON,
    ROOT,
    client_session,
    dedup_key,
    free_port,
    iso,
    log,
    percentile,
    pool_offline,
    received_at,
    run_clients,
    run_id,
    running_stack,
)

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
CLIENTS = 4
# Alertmanager's own choices where a zero is not allowed: the resolve of a group goes out at
# its next group_interval, so its resolves are at least this late.
AM_CONFIG = """\
route:
  receiver: pagerduty
  group_by: ['...']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 24h
receivers:
  - name: pagerduty
    pagerduty_configs:
      - routing_key: {key}
        url: {sink}/v2/enqueue
        send_resolved: true
        description: '{{{{ .CommonLabels.key }}}}'
"""


@dataclass
class Figures:
    name: str
    triggers_per_s: float
    p50_ms: float
    p99_ms: float
    resolves_per_s: float
    peak_rss_mib: float

    def line(self) -> str:
        return (
            f"{self.name}: {self.triggers_per_s:,.0f} pages/s end to end, "
            f"trigger p50 {self.p50_ms:,.1f} ms / p99 {self.p99_ms:,.1f} ms, "
            f"resolves {self.resolves_per_s:,.0f}/s, peak RSS {self.peak_rss_mib:,.0f} MiB"
        )


# what each service is sent


@dataclass(frozen=True)
class Job:
    keys: tuple[str, ...]  # the dedup keys (rbtk) or key labels (Alertmanager) it carries
    body: object


def jobs(
    items: Sequence[tuple[str, object]], batch: int, wrap: Callable[[list[object]], object]
) -> list[Job]:
    if batch == 1:
        return [Job((key,), wrap([item])) for key, item in items]
    chunks = [items[i : i + batch] for i in range(0, len(items), batch)]
    return [Job(tuple(k for k, _ in chunk), wrap([i for _, i in chunk])) for chunk in chunks]


async def post(
    urls: Sequence[str], headers: dict[str, str], work: Sequence[Job]
) -> dict[str, float]:
    """POST every job from CLIENTS clients, the jobs spread over `urls` in turn (instances of
    one service); answer when each key's POST was sent."""
    sent: dict[str, float] = {}
    targets = {id(job): urls[number % len(urls)] for number, job in enumerate(work)}
    async with client_session(CLIENTS) as session:

        async def send(job: object) -> None:
            assert isinstance(job, Job)
            url = targets[id(job)]
            at = time.time()
            async with session.post(url, json=job.body, headers=headers) as response:
                if response.status not in (200, 202):
                    raise RuntimeError(
                        f"POST {url} answered {response.status}: {await response.text()}"
                    )
                await response.read()
            for key in job.keys:
                sent[key] = at

        await run_clients(work, CLIENTS, send)
    return sent


# the sink


@contextmanager
def running_sink(data_dir: Path) -> Iterator[str]:
    port = free_port()
    with (data_dir / "sink.log").open("wb") as output:
        process = subprocess.Popen(
            [PYTHON, str(ROOT / "bench" / "sink.py"), "--host", HOST, "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{HOST}:{port}"
    try:
        _wait(f"{url}/_inspect/events", process)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def received(sink: str, action: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = httpx.get(f"{sink}/_inspect/events", timeout=60).json()["events"]
    return [e for e in events if e["event_action"] == action]


def wait_received(sink: str, action: str, count: int, timeout_s: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        events = received(sink, action)
        if len(events) >= count:
            return events
        time.sleep(0.2)
    raise TimeoutError(f"the sink received {len(received(sink, action))} of {count} {action}s")


def figures(
    name: str,
    triggers: tuple[dict[str, float], list[dict[str, Any]]],
    resolves: tuple[dict[str, float], list[dict[str, Any]]],
    key: Callable[[dict[str, Any]], str],
    rss_mib: float,
) -> Figures:
    def rate(sent: dict[str, float], got: list[dict[str, Any]]) -> float:
        return len(got) / (max(received_at(e) for e in got) - min(sent.values()))

    sent, got = triggers
    latencies = [received_at(e) - sent[key(e)] for e in got]
    return Figures(
        name,
        rate(*triggers),
        percentile(latencies, 50) * 1000,
        percentile(latencies, 99) * 1000,
        rate(*resolves),
        rss_mib,
    )


# Alertmanager


def alertmanager(n: int, batch: int, tag: str) -> Figures:
    if not Path(ALERTMANAGER).exists():
        log("installing prometheus-alertmanager with apt")
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "prometheus-alertmanager"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            stdout=subprocess.DEVNULL,
        )
    data_dir = Path(tempfile.mkdtemp(prefix="rbtk-bench-am-"))
    try:
        with running_sink(data_dir) as sink:
            config = data_dir / "alertmanager.yml"
            config.write_text(AM_CONFIG.format(key=INTEGRATION_KEY, sink=sink))
            port = free_port()
            with (data_dir / "alertmanager.log").open("wb") as output:
                process = subprocess.Popen(
                    [
                        ALERTMANAGER,
                        f"--config.file={config}",
                        f"--storage.path={data_dir / 'data'}",
                        f"--web.listen-address={HOST}:{port}",
                        "--cluster.listen-address=",  # HA off
                    ],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            url = f"http://{HOST}:{port}"
            try:
                _wait(f"{url}/-/ready", process)
                keys = [f"am-{tag}-{i}" for i in range(n)]
                started = datetime.now(UTC)

                def alert(key: str, ended: bool) -> dict[str, Any]:
                    labels = {"alertname": "RunnerPoolOffline", "project": PROJECT, "key": key}
                    body: dict[str, Any] = {"labels": labels, "startsAt": iso(started)}
                    if ended:
                        body["endsAt"] = iso(datetime.now(UTC))
                    return body

                endpoint = f"{url}/api/v2/alerts"
                headers = {"Content-Type": "application/json"}
                log(f"alertmanager: posting {n} alerts, {batch} per request, {CLIENTS} clients")
                offline = jobs([(k, alert(k, False)) for k in keys], batch, list)
                sent = asyncio.run(post([endpoint], headers, offline))
                triggers = (sent, wait_received(sink, "trigger", n, 300))
                back = jobs([(k, alert(k, True)) for k in keys], batch, list)
                sent = asyncio.run(post([endpoint], headers, back))
                resolves = (sent, wait_received(sink, "resolve", n, 300))
                rss = peak_rss_mib(process.pid)
            finally:
                process.terminate()
                process.wait(10)
        return figures("alertmanager 0.25", triggers, resolves, lambda e: e["summary"], rss)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


# rbtk


def rbtk(n: int, batch: int, tag: str, db: str, instances: int) -> Figures:
    since = datetime.now(UTC) - timedelta(minutes=20)  # past the threshold: each pages at once
    pools = [f"pool-{tag}-{i}" for i in range(n)]
    offline = [
        (
            dedup_key(p),
            pool_offline(f"off-{tag}-{i}", p, occurred_at=since, last_heartbeat_at=since),
        )
        for i, p in enumerate(pools)
    ]

    def online(i: int, pool: str) -> dict[str, Any]:
        at = iso(datetime.now(UTC))
        data = {"pool_name": pool}
        return {
            "id": f"on-{tag}-{i}",
            "type": "runner_pool.online",
            "project_slug": PROJECT,
            "occurred_at": at,
            "data": data,
        }

    def wrap(events: list[object]) -> object:
        return events[0] if batch == 1 else {"events": events}

    with running_stack(db, rate_per_min=0, sink="raw", instances=instances) as stack:
        endpoints = [f"{url}/api/v1/events" for url in stack.urls]
        log(
            f"rbtk ({db}, {instances} instance(s)): posting {n} events, {batch} per request, "
            f"{CLIENTS} clients"
        )
        sent = asyncio.run(post(endpoints, stack.headers, jobs(offline, batch, wrap)))
        triggers = (sent, wait_received(stack.emulator_url, "trigger", n, 300))
        back = [(dedup_key(p), online(i, p)) for i, p in enumerate(pools)]
        sent = asyncio.run(post(endpoints, stack.headers, jobs(back, batch, wrap)))
        resolves = (sent, wait_received(stack.emulator_url, "resolve", n, 300))
        rss = sum(peak_rss_mib(stack.pids[name]) for name in stack.pids if _is_serve(name))
    name = f"rbtk {db}" + (f", {instances} instances" if instances > 1 else "")
    return figures(name, triggers, resolves, lambda e: e["dedup_key"], rss)


def _is_serve(name: str) -> bool:
    """rbtk serve processes in Stack.pids ("rbtk", "rbtk 2"); their children are counted
    with them."""
    return name.startswith("rbtk") and not name.endswith("delivery")


# processes


def peak_rss_mib(pid: int) -> float:
    """The peak resident set of a process and its descendants (VmHWM, summed)."""
    total_kib = 0
    for member in [pid, *_descendants(pid)]:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total_kib += int(line.split()[1])
    return total_kib / 1024


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(proc.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        member = todo.pop()
        found.append(member)
        todo.extend(children.get(member, []))
    return found


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} at start")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=DATABASES, default="sqlite")
    parser.add_argument("-n", type=int, default=5_000, help="distinct pages (default 5,000)")
    parser.add_argument("--batch", type=int, default=1, help="alerts per request (default 1)")
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="rbtk serve instances on one PostgreSQL database, requests spread over them",
    )
    args = parser.parse_args()
    if args.instances > 1 and args.db != "postgresql":
        parser.error("--instances needs --db postgresql")
    tag = run_id()
    am = alertmanager(args.n, args.batch, tag)
    ours = rbtk(args.n, args.batch, tag, args.db, args.instances)
    unit = "1 per request" if args.batch == 1 else f"batches of {args.batch}"
    print(f"n={args.n}, {unit}, {CLIENTS} clients, each into its own bare sink on loopback")
    print(am.line())
    print(ours.line())
    print(f"rbtk / alertmanager: {ours.triggers_per_s / am.triggers_per_s:.2f}x pages/s")


if __name__ == "__main__":
    main()

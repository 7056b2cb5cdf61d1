"""What every benchmark shares: a real `rbtk serve` and PagerDuty emulator as subprocesses.

`running_stack(db)` starts, on 127.0.0.1 only:

- the emulator (`rbtk pd-emulator --rate-limit-per-min 0`),
- a fresh database: a SQLite file in a temporary data directory, or a fresh schema in the
  local PostgreSQL `test` database (created here, dropped at the end),
- an admin token (`rbtk tokens create --scope admin`),
- `rbtk serve` delivering to the emulator, with the send budget lifted unless asked,
- one PagerDuty connector (`rbtk.admin.connectors.add`, the one write path), with storm
  collapse off unless asked: the benchmarks that count pages want every one of them sent,

and stops and removes all of it on the way out, even when the benchmark fails. Progress goes
to stderr; each benchmark prints its one result line to stdout.
"""

import asyncio
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from rbtk.admin import connectors
from rbtk.admin.connector_settings import ConnectorSettings, Storm
from rbtk.outbox.status import PENDING
from rbtk.runtime.secrets import Vault

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
RBTK = str(VENV_BIN / "rbtk")
PYTHON = str(VENV_BIN / "python")
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"
CONNECTOR = "bench"
INTEGRATION_KEY = "0123456789abcdef0123456789abcdef"
PROJECT = "bench"
DATABASES = ("sqlite", "postgresql")
SINKS = ("emulator", "raw")
ALERTMANAGER_PER_S = 1900  # distinct alerts/s Alertmanager delivers here (issue 3)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# the stack


@dataclass
class Stack:
    db: str
    url: str  # rbtk's base URL (the first instance's)
    token: str
    emulator_url: str
    database_url: str
    data_dir: Path
    pids: dict[str, int]
    urls: tuple[str, ...] = ()  # every instance's base URL, the first one's first

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each process has used so far."""
        return {name: _cpu_seconds(pid) for name, pid in self.pids.items()}

    @contextmanager
    def cpu_report(self) -> Iterator[None]:
        """Log how busy rbtk, the emulator, this client and everything else on the machine
        were while the block ran (to stderr): other work on the machine skews the figures."""
        before, machine = self.cpu_seconds(), _machine_busy_seconds()
        postgres = _postgres_cpu_seconds()
        client, started = time.process_time(), time.perf_counter()
        yield
        wall = time.perf_counter() - started
        used = {name: spent - before[name] for name, spent in self.cpu_seconds().items()}
        used["client"] = time.process_time() - client
        if self.db == "postgresql":  # all PostgreSQL server processes, ours and anyone's
            used["postgres"] = _postgres_cpu_seconds() - postgres
        others = _machine_busy_seconds() - machine - sum(used.values())
        used["other processes"] = max(0.0, others)
        log(
            f"{wall:.1f} s wall; CPU used (100% = one core of {os.cpu_count()}): "
            + ", ".join(f"{name} {cpu:.1f} s ({cpu / wall:.0%})" for name, cpu in used.items())
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def pending(self) -> int:
        """Outbox rows not yet sent or failed (read straight from the database)."""
        pending = ", ".join(f"'{status}'" for status in PENDING)
        return int(
            _scalar(self.database_url, f"SELECT count(*) FROM outbox WHERE status IN ({pending})")
        )

    def outbox_count(self) -> int:
        return int(_scalar(self.database_url, "SELECT count(*) FROM outbox"))

    def emulator_events(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.emulator_url}/_inspect/events", timeout=60)
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    def wait_delivered(self, expected_rows: int, *, timeout_s: float) -> None:
        """Wait until the outbox holds `expected_rows` and none of them is pending."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.outbox_count() >= expected_rows and self.pending() == 0:
                return
            time.sleep(0.25)
        raise TimeoutError(
            f"not delivered within {timeout_s} s: {self.outbox_count()} outbox rows, "
            f"{self.pending()} pending"
        )


_engines: dict[str, Any] = {}


def _scalar(database_url: str, sql: str) -> Any:
    engine = _engines.get(database_url)
    if engine is None:
        engine = _engines[database_url] = create_engine(database_url, pool_size=1)
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar()


@contextmanager
def running_stack(
    db: str,
    *,
    rate_per_min: int = 0,
    env: dict[str, str] | None = None,
    sink: str = "emulator",
    instances: int = 1,
    storms: bool = False,
    emulator_rate_per_min: int = 0,
) -> Iterator[Stack]:
    """`sink="raw"` delivers to bench/sink.py (a bare 202 endpoint) instead of the emulator.
    `instances` > 1 starts that many `rbtk serve` on the one PostgreSQL database. `storms`
    leaves the connector's storm collapse on (the default of a new connector);
    `emulator_rate_per_min` turns PagerDuty's own limit on in the emulator."""
    if db not in DATABASES:
        raise ValueError(f"--db must be one of {', '.join(DATABASES)}")
    if instances > 1 and db != "postgresql":
        raise ValueError("several instances share a PostgreSQL database only")
    if sink not in SINKS:
        raise ValueError(f"--sink must be one of {', '.join(SINKS)}")
    data_dir = Path(tempfile.mkdtemp(prefix="rbtk-bench-"))
    processes: list[tuple[str, subprocess.Popen[bytes]]] = []
    schema = None
    try:
        if db == "sqlite":
            database_url = f"sqlite:///{data_dir / 'rbtk.db'}"
        else:
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            _postgres(f'CREATE SCHEMA "{schema}"')
            database_url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        # A bench may put the database elsewhere (bench/recovery_disk.py: on a small disk).
        database_url = (env or {}).get("RBTK_DATABASE_URL", database_url)

        emulator_port = free_port()
        emulator_url = f"http://{HOST}:{emulator_port}"
        emulator = _start_emulator(
            emulator_port, data_dir, raw=sink == "raw", rate_per_min=emulator_rate_per_min
        )
        processes.append(("emulator", emulator))
        _wait_http(f"{emulator_url}/_inspect/alerts", emulator, data_dir / "emulator.log")

        service_env = {
            **os.environ,
            "RBTK_DATA_DIR": str(data_dir),
            "RBTK_DATABASE_URL": database_url,
            "RBTK_SECRET_KEY": Fernet.generate_key().decode(),
            "RBTK_PAGERDUTY_URL": f"{emulator_url}/v2/enqueue",
            "RBTK_PAGERDUTY_RATE_PER_MIN": str(rate_per_min),
            "RBTK_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        created = subprocess.run(
            [RBTK, "tokens", "create", "--scope", "admin", "--name", "bench"],
            env=service_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if created.returncode != 0:
            raise RuntimeError(f"rbtk tokens create failed: {created.stderr.strip()[-2000:]}")
        token = created.stdout.strip()

        urls, pids = [], {"emulator": emulator.pid}
        for number in range(instances):
            name = "serve" if number == 0 else f"serve-{number + 1}"
            port = free_port()
            url = f"http://{HOST}:{port}"
            service_log = (data_dir / f"{name}.log").open("wb")
            service = subprocess.Popen(
                [RBTK, "serve", "--host", HOST, "--port", str(port)],
                env=service_env,
                stdout=service_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            processes.append((name, service))
            _wait_http(f"{url}/healthz", service, data_dir / f"{name}.log")
            _wait_ready(f"{url}/readyz", service, data_dir / f"{name}.log")
            urls.append(url)
            rbtk = "rbtk" if number == 0 else f"rbtk {number + 1}"
            pids[rbtk] = service.pid
            # serve's delivery process (delivery + scheduler), counted on its own CPU line.
            for child in _children(service.pid):
                pids[f"{rbtk} delivery"] = child
        service = processes[-instances][1]  # the first instance: what py-spy records
        url = urls[0]
        stack = Stack(db, url, token, emulator_url, database_url, data_dir, pids, tuple(urls))
        _add_connector(stack, service_env["RBTK_SECRET_KEY"], storms=storms)
        log(f"stack up: rbtk {url} on {db}, emulator {emulator_url}, data {data_dir}")
        # For investigation: BENCH_PYSPY=FILE records rbtk with py-spy (pip install py-spy
        # into the venv); BENCH_PYSPY_ARGS adds options, e.g. "--gil".
        profile = os.environ.get("BENCH_PYSPY")
        if profile:
            spy_options = os.environ.get("BENCH_PYSPY_ARGS", "").split()
            spy = subprocess.Popen(
                [
                    *(str(VENV_BIN / "py-spy"), "record", "--pid", str(service.pid)),
                    *("--rate", "250", "--format", "raw", "--output", profile, "--nonblocking"),
                    *spy_options,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            processes.append(("py-spy", spy))
        try:
            yield stack
        except BaseException:
            for name, _ in processes:
                _tail(data_dir / f"{name}.log")
            raise
    finally:
        for name, process in reversed(processes):
            _stop(name, process)
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        if schema is not None:
            _postgres(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        shutil.rmtree(data_dir, ignore_errors=True)


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with suppress(OSError):
                if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(proc.name))
    return found


def _postgres_cpu_seconds() -> float:
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with suppress(OSError):
                if (proc / "comm").read_text().strip() == "postgres":
                    spent = _cpu_seconds(int(proc.name))
                    total += 0.0 if math.isnan(spent) else spent
    return total


def _machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idle and I/O wait since boot."""
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _postgres(sql: str) -> None:
    engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


def _start_emulator(
    port: int, data_dir: Path, *, raw: bool, rate_per_min: int
) -> subprocess.Popen[bytes]:
    common: dict[str, Any] = {"start_new_session": True, "stderr": subprocess.STDOUT}
    if raw:
        command = [PYTHON, str(ROOT / "bench" / "sink.py"), "--host", HOST, "--port", str(port)]
    else:
        command = [RBTK, "pd-emulator", "--host", HOST, "--port", str(port)]
        command += ["--rate-limit-per-min", str(rate_per_min)]
    handle = (data_dir / "emulator.log").open("wb")
    return subprocess.Popen(command, stdout=handle, **common)


def _wait_http(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Any HTTP answer means the server is up."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _tail(log_path)
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} at start")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    _tail(log_path)
    raise RuntimeError(f"{url} did not answer within 30 s")


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until /readyz says 200: the delivery process starts after the API answers."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _tail(log_path)
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} at start")
        if httpx.get(url, timeout=5).status_code == 200:
            return
        time.sleep(0.05)
    _tail(log_path)
    raise RuntimeError(f"{url} did not say ready within 30 s")


def _add_connector(stack: Stack, secret_key: str, *, storms: bool) -> None:
    engine = create_engine(stack.database_url)
    try:
        with engine.begin() as connection:
            connectors.add(
                connection,
                vault=Vault(secret_key),
                name=CONNECTOR,
                key=INTEGRATION_KEY,
                settings=ConnectorSettings(storm=Storm(collapse=storms)),
                by="test",
                now=datetime.now(UTC),
            )
    finally:
        engine.dispose()
    log("connector added with rbtk.admin.connectors.add")


def _stop(name: str, process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT if name == "py-spy" else signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log(f"{name} ignored SIGTERM for 20 s; killing it")
            with suppress(ProcessLookupError):
                process.kill()
            process.wait(timeout=10)


def _tail(path: Path, lines: int = 30) -> None:
    with suppress(OSError):
        content = path.read_text(errors="replace").splitlines()[-lines:]
        if content:
            print(f"--- last lines of {path.name}:", *content, sep="\n", file=sys.stderr)


# events


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def pool_offline(
    event_id: str, pool: str, *, occurred_at: datetime, last_heartbeat_at: datetime
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "runner_pool.offline",
        "project_slug": PROJECT,
        "occurred_at": iso(occurred_at),
        "data": {
            "pool_name": pool,
            "pool_type": "self-hosted",
            "airgapped": True,
            "last_heartbeat_at": iso(last_heartbeat_at),
            "queued_jobs": 4,
        },
    }


def dedup_key(pool: str) -> str:
    return f"rbtk:pool-offline:{PROJECT}:{pool}"


def run_id() -> str:
    return uuid.uuid4().hex[:8]


def received_at(event: dict[str, Any]) -> float:
    """An emulator event's receipt time, as a Unix timestamp."""
    return datetime.fromisoformat(event["received_at"].replace("Z", "+00:00")).timestamp()


# load


def client_session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=120),
    )


async def post_events(
    session: aiohttp.ClientSession, stack: Stack, payload: object, *, expect: int
) -> int:
    """POST one event or a batch; answer how many were accepted, and fail loudly otherwise."""
    async with session.post(
        f"{stack.url}/api/v1/events", json=payload, headers=stack.headers
    ) as response:
        body = await response.json()
        if response.status not in (200, 202):
            raise RuntimeError(f"POST /api/v1/events answered {response.status}: {body}")
    accepted = 1 if response.status == 202 else int(body["accepted"])
    if accepted != expect:
        raise RuntimeError(f"expected {expect} accepted, got {accepted}: {str(body)[:300]}")
    return accepted


async def run_clients(jobs: Sequence[object], clients: int, worker: Any) -> None:
    """Run `worker(job)` for every job with at most `clients` in flight."""
    queue: asyncio.Queue[object] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def client() -> None:
        while True:
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await worker(job)

    await asyncio.gather(*(client() for _ in range(clients)))


def page_body(dedup: str) -> bytes:
    """A trigger shaped and sized like the ones rbtk sends (about 680 bytes)."""
    at = iso(datetime.now(UTC))
    return json.dumps(
        {
            "routing_key": INTEGRATION_KEY,
            "event_action": "trigger",
            "dedup_key": dedup,
            "payload": {
                "summary": "Air-gapped pool direct offline for 20 minutes",
                "severity": "critical",
                "source": f"roboticks/{PROJECT}",
                "component": "runner-pool",
                "group": "platform",
                "class": "runner_pool_offline",
                "custom_details": {
                    "project_slug": PROJECT,
                    "pool_name": "direct",
                    "pool_type": "self-hosted",
                    "airgapped": True,
                    "last_heartbeat_at": at,
                    "queued_jobs": 4,
                },
                "timestamp": at,
            },
            "links": [{"href": "https://app.roboticks.io/r/bench/pools/direct", "text": "View"}],
            "client": "Roboticks",
            "client_url": "https://app.roboticks.io",
        },
        separators=(",", ":"),
    ).encode()


async def direct_rate(stack: Stack, count: int, concurrency: int = 64) -> float:
    """Requests/s the emulator (or sink) answers when one bare aiohttp client posts to it
    directly, with the concurrency rbtk's delivery uses (RBTK_DELIVERY_CONCURRENCY)."""
    bodies = [page_body(f"direct:{run_id()}:{i}") for i in range(count)]
    url = f"{stack.emulator_url}/v2/enqueue"
    headers = {"Content-Type": "application/json"}
    async with client_session(concurrency) as session:

        async def send(body: object) -> None:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 202:
                    raise RuntimeError(f"the sink answered {response.status}")

        started = time.perf_counter()
        await run_clients(bodies, concurrency, send)
        return count / (time.perf_counter() - started)


# figures


def percentile(values: Iterable[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"

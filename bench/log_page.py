"""The delivery log's pages at a size: milliseconds per page (median of 7), the first page
with its bounded total, an older page, and pages filtered by dedup key and by status, read
through `rbtk.outbox.log.delivery_log.query` as the API and the settings page read them.

It builds a database of `--rows` rows of history (one connector, 5,000 pools, a row every
6 s back in time, all sent) in a temporary directory (SQLite) or a new database on the local
PostgreSQL server, dropped afterwards. With `--no-shape` (SQLite), the planner statistics
that migration 0018 ships are removed first: the figures before it.

    .venv/bin/python bench/log_page.py --db sqlite --rows 400000
    .venv/bin/python bench/log_page.py --db sqlite --rows 4000000 --no-shape
    .venv/bin/python bench/log_page.py --db postgresql --rows 400000
"""

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from rbtk.admin import connectors
from rbtk.channels import registry
from rbtk.context import Context, open_context
from rbtk.intake.ingest import ingest
from rbtk.outbox.log import delivery_log
from rbtk.runtime.settings import Settings

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
HISTORY = """
INSERT INTO outbox (channel, connector_id, connector_name, channel_name, destination,
  key_fingerprint, endpoint, event_id, event_type, project_slug, dedup_key, action, severity,
  priority, body, created_at, next_attempt_at, status, message, attempts, last_attempt_at,
  http_status)
SELECT o.channel, o.connector_id, o.connector_name, o.channel_name, o.destination,
  o.key_fingerprint, o.endpoint, 'ev-' || i, o.event_type, o.project_slug,
  'rbtk:pool-offline:warehouse:pool-' || (i % 5000),
  CASE WHEN i % 2 = 1 THEN 'trigger' ELSE 'resolve' END, o.severity, o.priority, o.body,
  {created}, o.next_attempt_at, 'sent', 'Event processed', 1, o.created_at, 202
FROM {series}, (SELECT * FROM outbox LIMIT 1) o
"""


def fill(context: Context, rows: int, postgres: bool) -> None:
    now = datetime.now(UTC)
    with context.engine.begin() as connection:
        connectors.add(connection, vault=context.vault, name="pd-production", key=KEY,
                       by="bench", now=now)  # fmt: skip
    seed = {
        "id": "seed", "type": "runner_pool.offline", "project_slug": "warehouse",
        "occurred_at": (now - timedelta(hours=2)).isoformat(),
        "data": {"pool_name": "seed", "airgapped": True},
    }  # fmt: skip
    ingest(context, [seed], now)
    if postgres:
        created, series = (
            "o.created_at - (i * 6) * interval '1 second'",
            "generate_series(1, :n) AS i",
        )
    else:
        created = "datetime(o.created_at, '-' || (i * 6) || ' seconds')"
        series = (
            "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
            "SELECT i FROM s)"
        )
    with context.engine.begin() as connection:
        connection.execute(text(HISTORY.format(created=created, series=series)), {"n": rows})
    if postgres:  # as autovacuum would, soon after a load this size
        with context.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("ANALYZE outbox")
            )


def timed(run: Callable[[], object], times: int = 7) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--no-shape", action="store_true", help="SQLite: drop 0018's statistics")
    args = parser.parse_args()
    postgres = args.db == "postgresql"
    with tempfile.TemporaryDirectory(prefix="rbtk-log-page-") as tmp:
        # Not rbtk_...: the test suite drops those of sessions it finds dead (tests/databases.py)
        name = f"bench_rbtk_{uuid.uuid4().hex[:8]}"
        server = create_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")
        url = f"sqlite:///{tmp}/rbtk.db"
        if postgres:
            with server.connect() as connection:
                connection.execute(text(f"CREATE DATABASE {name}"))
            url = f"{SERVER}/{name}"
        settings = Settings(data_dir=Path(tmp), database_url=url,
                            secret_key=Fernet.generate_key().decode())  # fmt: skip
        context = open_context(settings)
        try:
            print(f"filling {args.rows:,} rows ({args.db})", file=sys.stderr)
            fill(context, args.rows, postgres)
            if args.no_shape and not postgres:
                with context.engine.begin() as connection:
                    connection.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'outbox'"))
                context.engine.dispose()
            rates = registry.rates(settings)
            key = "rbtk:pool-offline:warehouse:pool-17"
            query = delivery_log.query
            with context.engine.connect() as connection:
                figures = {
                    "first": timed(lambda: query(connection, count=True, rates=rates)),
                    "older": timed(
                        lambda: query(connection, before_id=args.rows // 2, count=True, rates=rates)
                    ),
                    "by_key": timed(
                        lambda: query(connection, dedup_key=key, count=True, rates=rates)
                    ),
                    "by_status": timed(
                        lambda: query(connection, status="failed", count=True, rates=rates)
                    ),
                }
        finally:
            context.engine.dispose()
            if postgres:
                with server.connect() as connection:
                    connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            server.dispose()
    shape = " no-shape" if args.no_shape else ""
    said = " ".join(f"{what}={ms:.1f}ms" for what, ms in figures.items())
    print(f"log_page db={args.db} rows={args.rows}{shape} {said}")


if __name__ == "__main__":
    main()

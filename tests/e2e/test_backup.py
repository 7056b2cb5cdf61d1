"""`rbtk backup` while rbtk serves under load, and `rbtk restore` into a fresh data dir: the
copy is the database as of one commit, holding every event acknowledged before it began,
the connectors and the open incidents."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner, Result

from rbtk.cli.main import app
from rbtk.intake.ingest import MAX_BATCH
from rbtk.store.tables import events
from tests.e2e.conftest import Start
from tests.factories import KEY, event, pool_offline
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

BATCH = 100  # events per request of the load
HISTORY = 3000  # events stored before the load starts, so the copy has pages to read
MOST_BATCHES = 3000  # the load's bound, whatever happens to the backup


class Load:
    """One sender posting batches of events one after another, keeping the ids of every
    batch rbtk acknowledged (2xx), in order, until stopped."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.acknowledged: list[str] = []
        self.batches = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        at = datetime.now(UTC)
        with httpx.Client(headers=headers, timeout=30) as client:
            for number in range(MOST_BATCHES):
                if self.stop.is_set():
                    return
                ids = [f"load-{number}-{i}" for i in range(BATCH)]
                batch = [event(id_, "deploy.finished", at, service="api") for id_ in ids]
                answer = client.post(f"{self.url}/api/v1/events", json={"events": batch})
                if answer.is_success:
                    self.acknowledged.extend(ids)
                    self.batches += 1


def rbtk_in_process(*args: str, env: dict[str, str]) -> Result:
    """`rbtk ARGS` in this process: the backup and restore commands start no server, and a
    process start costs seconds on a busy machine. The server they work beside is real."""
    return CliRunner().invoke(app, list(args), env=env, prog_name="rbtk")


def api(url: str, token: str, path: str) -> Any:
    answer = httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def stored_event_ids(database: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(events.c.id)).scalars())
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backup_under_load_restores_every_acknowledged_event_connector_and_open_incident(
    start: Start, admin: dict[str, str], tmp_path: Path
) -> None:
    copy = tmp_path / "rbtk-backup.db"
    token = admin["RBTK_TOKEN"]
    pools = [f"rbtk:pool-offline:warehouse:pool-{i}" for i in range(3)]
    with start() as service:
        env = {**admin, "RBTK_URL": service.url}
        added = httpx.post(
            f"{service.url}/api/v1/pagerduty/connectors",
            json={"name": "pd-production", "integration_key": KEY},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert added.status_code == 201, added.text
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        offline = [pool_offline(f"off-{i}", hour_ago, f"pool-{i}") for i in range(3)]
        history = [
            event(f"old-{i}", "deploy.finished", hour_ago, service="api") for i in range(HISTORY)
        ]
        for start_at in range(0, len(history), MAX_BATCH - len(offline)):
            chunk = history[start_at : start_at + MAX_BATCH - len(offline)]
            httpx.post(
                f"{service.url}/api/v1/events",
                json={"events": offline + chunk if start_at == 0 else chunk},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            ).raise_for_status()
        open_before = sorted(
            i["dedup_key"] for i in api(service.url, token, "/api/v1/incidents")["incidents"]
        )
        assert open_before == pools

        load = Load(service.url, token)
        load.thread.start()
        wait_for(lambda: load.batches, until=lambda n: n >= 3, timeout_s=30, what="the load")
        acknowledged_before = list(load.acknowledged)
        backup = rbtk_in_process("backup", str(copy), env=env)
        after = load.batches
        wait_for(lambda: load.batches, until=lambda n: n >= after + 3, timeout_s=30, what="load")
        load.stop.set()
        load.thread.join(timeout=30)
        refused = rbtk_in_process("restore", str(copy), env=env)

    assert backup.exit_code == 0, backup.stderr
    assert (refused.exit_code, refused.stderr) == (
        1,
        f"error: rbtk serve is running on {env['RBTK_DATA_DIR']}; stop it first\n",
    )

    fresh = tmp_path / "fresh"
    restored_env = {k: v for k, v in env.items() if k != "RBTK_DATABASE_URL"}
    restored_env["RBTK_DATA_DIR"] = str(fresh)
    restored = rbtk_in_process("restore", str(copy), env=restored_env)
    assert restored.exit_code == 0, restored.stderr

    ids = set(stored_event_ids(fresh / "rbtk.db"))
    loaded = [id_ for id_ in load.acknowledged if id_ in ids]
    # One commit's state: every event acknowledged before the backup began, and of the load
    # exactly what had been committed when it read the database: a prefix of what was sent.
    assert set(acknowledged_before) <= ids
    assert {f"old-{i}" for i in range(HISTORY)} | {f"off-{i}" for i in range(3)} <= ids
    assert loaded == load.acknowledged[: len(loaded)]
    assert {id_ for id_ in ids if id_.startswith("load-")} == set(loaded)
    # For the record (pytest -rP shows it): the copy's size and time, and what was checked.
    print(backup.stdout, f"events checked: {len(ids)}, {len(loaded)} of the load's", sep="")

    with start(
        RBTK_DATA_DIR=str(fresh), RBTK_DATABASE_URL=f"sqlite:///{fresh / 'rbtk.db'}"
    ) as again:
        connectors = api(again.url, token, "/api/v1/pagerduty/connectors")["connectors"]
        incidents = api(again.url, token, "/api/v1/incidents")["incidents"]

    assert [(c["name"], c["integration_key"][-4:]) for c in connectors] == [
        ("pd-production", KEY[-4:])
    ]
    assert sorted(i["dedup_key"] for i in incidents) == pools

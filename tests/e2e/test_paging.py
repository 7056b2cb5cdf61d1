"""The seed scenarios through real processes: CLI -> rbtk serve -> PagerDuty emulator."""

import json
import os
import signal
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Emulator, Start
from tests.e2e.processes import rbtk
from tests.factories import KEY, event, pool_offline, pool_online
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


# On PostgreSQL a killed instance's rows wait for their leases to run out (15 s in
# production); a lease must outlast 1.5 times the slowest channel's timeout.
SHORT_LEASES = {
    "RBTK_DELIVERY_LEASE_S": "5",
    "RBTK_SMTP_TIMEOUT_S": "3",
    "RBTK_CHANNEL_LIMITS": '{"slack": {"timeout_s": 3}, "webhook": {"timeout_s": 3}}',
}


def ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def send(env: dict[str, str], *events: dict[str, Any]) -> str:
    sent = rbtk("events", "send", "-", env=env, stdin=json.dumps({"events": list(events)}))
    assert sent.returncode == 0, sent.stdout + sent.stderr
    return sent.stdout


def post(env: dict[str, str], *events: dict[str, Any]) -> None:
    """Events straight to the API, in milliseconds: for tests about what happens after
    (`send` spends a process start on the CLI, which has tests of its own)."""
    response = httpx.post(
        f"{env['RBTK_URL']}/api/v1/events",
        json={"events": list(events)},
        headers={"Authorization": f"Bearer {env['RBTK_TOKEN']}"},
        timeout=30,
    )
    assert response.json()["accepted"] == len(events), response.text


def add_connector(
    env: dict[str, str], name: str = "pd-production", key: str = KEY, *options: str
) -> None:
    added = rbtk("admin", "pd", "connectors", "add", name, "--key", key, *options, env=env)
    assert added.returncode == 0, added.stderr


def delivery_log(env: dict[str, str]) -> list[dict[str, Any]]:
    """The delivery log as `rbtk admin pd log --json` prints it (the API's answer, which that
    command's own tests hold it to), read without a process start: tests poll it."""
    response = httpx.get(
        f"{env['RBTK_URL']}/api/v1/pagerduty/deliveries",
        params={"limit": 500},
        headers={"Authorization": f"Bearer {env['RBTK_TOKEN']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["deliveries"]
    return rows


def open_keys(emulator: Emulator) -> dict[str, str]:
    return {a["dedup_key"]: a["severity"] for a in emulator.alerts("open")}


def resolved_keys(emulator: Emulator) -> set[str]:
    return {a["dedup_key"] for a in emulator.alerts("resolved")}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_seed_scenarios_open_and_close_incidents(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    with start() as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)

        send(env, pool_offline("pool-1", ago(15)))  # heartbeat two minutes earlier
        send(
            env,
            event(
                "ev-1",
                "evidence_pack.generation_failed",
                ago(5),
                release_tag="v2.4.0",
                ref="main",
                error="signing key expired",
            ),
            event("rel-1", "release.published", ago(30), tag="v2.4.0", branch="main"),
            event(
                "run-1",
                "test_run.completed",
                ago(3),
                run_id=881,
                branch="main",
                default_branch=True,
                pull_request=None,
                status="failed",
                tests=[
                    {"id": "nav/test_dock", "status": "failed"},
                    {"id": "nav/test_lift", "status": "failed"},
                    {"id": "nav/test_map", "status": "passed"},
                ],
            ),
            event(
                "run-pr",
                "test_run.completed",
                ago(2),
                run_id=882,
                branch="feature/x",
                default_branch=False,
                pull_request=412,
                status="failed",
                tests=[{"id": "nav/test_pr_only", "status": "failed"}],
            ),
        )
        pool = "rbtk:pool-offline:warehouse:onprem-airgapped"
        evidence = "rbtk:evidence-fail:warehouse:v2.4.0"
        dock = "rbtk:postrelease-fail:warehouse:main:nav/test_dock"
        lift = "rbtk:postrelease-fail:warehouse:main:nav/test_lift"
        wait_for(lambda: len(open_keys(emulator)) == 4, what="four incidents")
        assert open_keys(emulator) == {
            pool: "critical",
            evidence: "critical",
            dock: "error",
            lift: "error",
        }
        alert = next(a for a in emulator.alerts() if a["dedup_key"] == pool)
        assert alert["summary"] == "Air-gapped pool onprem-airgapped offline for 17 minutes"
        assert alert["last_payload"]["source"] == "roboticks/warehouse"

        send(
            env,
            pool_online("pool-2", ago(0)),
            event("ev-2", "evidence_pack.generated", ago(0), release_tag="v2.4.0", ref="main"),
            event(
                "run-2",
                "test_run.completed",
                ago(0),
                run_id=883,
                branch="main",
                default_branch=True,
                pull_request=None,
                status="failed",
                tests=[
                    {"id": "nav/test_dock", "status": "passed"},
                    {"id": "nav/test_lift", "status": "failed"},
                ],
            ),
        )
        wait_for(lambda: len(resolved_keys(emulator)) == 3, what="three resolves")
        assert resolved_keys(emulator) == {pool, evidence, dock}
        assert open_keys(emulator) == {lift: "error"}
        assert all(e["routing_key"] == KEY for e in emulator.events())
        assert not any("test_pr_only" in e["dedup_key"] for e in emulator.events())

        rows = wait_for(lambda: [r for r in delivery_log(env) if r["status"] == "sent"])
        assert sorted((r["action"], r["dedup_key"]) for r in rows) == sorted(
            [("trigger", k) for k in (pool, evidence, dock, lift)]
            + [("resolve", k) for k in (pool, evidence, dock)]
            + [("change", "rbtk:change:warehouse:main:v2.4.0")]  # the release, never a page
        )
        assert all(r["connector"] == "pd-production" and r["http_status"] == 202 for r in rows)
        [release] = emulator.changes()
        assert release["body"]["payload"]["summary"] == "warehouse v2.4.0 released from main"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_threshold_pages_when_it_passes_without_another_event(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    # 3 s: longer than posting the event takes, so nothing pages first.
    with start(RBTK_AIRGAPPED_OFFLINE_MINUTES="0.05") as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)
        offline = pool_offline("pool-1", ago(0))
        offline["data"]["last_heartbeat_at"] = offline["occurred_at"]  # due 3 s from now

        post(env, offline)
        assert emulator.events() == []

        wait_for(emulator.events, timeout_s=25, what="the threshold to page")
        assert [e["body"]["payload"]["severity"] for e in emulator.events()] == ["critical"]


def test_an_outage_loses_nothing_and_keeps_order_per_key(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    with start() as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)
        emulator.faults(error_rate=0.7, force_429=5)

        pools = [f"pool-{i}" for i in range(20)]
        send(env, *[pool_offline(f"off-{p}", ago(90), p) for p in pools])
        # Each trigger tried (so perhaps at PagerDuty): its resolve queues behind it, never
        # cancels it.
        wait_for(
            lambda: sum(r["attempts"] > 0 for r in delivery_log(env)) == 20,
            what="every trigger tried",
        )
        send(env, *[pool_online(f"on-{p}", ago(0), p) for p in pools])
        wait_for(  # a row retrying now, or one retried already: a status can pass unseen
            lambda: any(r["status"] == "retrying" or r["attempts"] > 1 for r in delivery_log(env)),
            what="retries in the delivery log",
        )
        emulator.faults()

        wait_for(lambda: len(resolved_keys(emulator)) == 20, timeout_s=30, what="all resolves")
        for pool in pools:
            key = f"rbtk:pool-offline:warehouse:{pool}"
            actions = [e["event_action"] for e in emulator.events() if e["dedup_key"] == key]
            assert actions == ["trigger", "resolve"]
        rows = delivery_log(env)
        assert {r["status"] for r in rows} == {"sent"}
        assert any(r["attempts"] > 1 for r in rows)


def test_a_crash_mid_delivery_loses_nothing_and_opens_each_incident_once(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    pools = [f"pool-{i}" for i in range(40)]
    emulator.faults(latency_ms=1500)
    with start(**SHORT_LEASES) as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env, "pd-production", KEY, "--no-storm-collapse")  # 40 incidents, each paged
        send(env, *[pool_offline(f"off-{p}", ago(90), p) for p in pools])
        wait_for(lambda: emulator.events() == [] and _in_flight(env), what="sends in flight")
        os.kill(service.process.pid, signal.SIGKILL)
        service.process.wait()
    emulator.faults()

    with start(**SHORT_LEASES) as service:
        env = {**admin, "RBTK_URL": service.url}
        wait_for(lambda: len(open_keys(emulator)) == 40, timeout_s=40, what="every incident")
        send(env, *[pool_online(f"on-{p}", ago(0), p) for p in pools])
        wait_for(lambda: len(resolved_keys(emulator)) == 40, timeout_s=30, what="every resolve")

    alerts = emulator.alerts()
    assert len(alerts) == 40  # a re-sent trigger appends to its alert, never opens another
    for pool in pools:
        key = f"rbtk:pool-offline:warehouse:{pool}"
        actions = [e["event_action"] for e in emulator.events() if e["dedup_key"] == key]
        assert actions[-1] == "resolve" and set(actions[:-1]) == {"trigger"}


def _in_flight(env: dict[str, str]) -> bool:
    return any(r["last_attempt_at"] for r in delivery_log(env))


def test_a_400_marks_the_row_failed_with_pagerdutys_message(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    with start() as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)
        emulator.faults(reject_next=1)

        send(env, pool_offline("pool-1", ago(90)))

        rows = wait_for(lambda: [r for r in delivery_log(env) if r["status"] == "failed"])
        assert (rows[0]["http_status"], rows[0]["message"]) == (400, "Event object is invalid")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_instances_on_one_database_never_send_a_row_twice(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    with start() as first, start() as second:
        add_connector({**admin, "RBTK_URL": first.url}, "pd-production", KEY, "--no-storm-collapse")
        pools = [f"pool-{i}" for i in range(600)]
        for index in range(0, len(pools), 100):
            url = (first, second)[index // 100 % 2].url
            chunk = pools[index : index + 100]
            send({**admin, "RBTK_URL": url}, *[pool_offline(f"o-{p}", ago(90), p) for p in chunk])

        wait_for(lambda: len(emulator.events()) >= 600, timeout_s=30, what="every page")
        keys = [e["dedup_key"] for e in emulator.events()]
        assert len(keys) == len(set(keys)) == 600


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sigterm_stops_the_service_cleanly(start: Start) -> None:
    with start() as service:
        service.process.send_signal(signal.SIGTERM)
        code = service.process.wait(timeout=20)

    assert code == 0

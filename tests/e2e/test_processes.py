"""`rbtk serve` runs delivery and the scheduler in a child process it supervises."""

import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Emulator, Service, Start
from tests.e2e.processes import alive, children
from tests.e2e.test_paging import add_connector, ago, send
from tests.factories import pool_offline
from tests.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def delivery_process(service: Service) -> int:
    [child] = wait_for(lambda: children(service.process.pid), what="the delivery process")
    return child


def pages(emulator: Emulator) -> list[str]:
    return [e["dedup_key"] for e in emulator.events()]


def test_a_killed_delivery_process_is_restarted_and_pages_still_go_out(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    with start() as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)
        send(env, pool_offline("off-1", ago(90), "pool-1"))
        wait_for(lambda: len(pages(emulator)) == 1, what="the first page")
        first = delivery_process(service)

        os.kill(first, signal.SIGKILL)
        second = wait_for(
            lambda: [c for c in children(service.process.pid) if c != first],
            what="a new delivery process",
        )[0]
        send(env, pool_offline("off-2", ago(90), "pool-2"))

        wait_for(
            lambda: "rbtk:pool-offline:warehouse:pool-2" in pages(emulator),
            what="the page sent after the restart",
        )
        # Killed between PagerDuty's 202 and recording it, the first child leaves pool-1's
        # trigger to be sent again: the same key, so the same incident, never a new one.
        assert [a["dedup_key"] for a in emulator.alerts()] == [
            "rbtk:pool-offline:warehouse:pool-1",
            "rbtk:pool-offline:warehouse:pool-2",
        ]
        assert set(pages(emulator)) == {
            "rbtk:pool-offline:warehouse:pool-1",
            "rbtk:pool-offline:warehouse:pool-2",
        }
        assert service.process.poll() is None and alive(second)
        # What the alert on a restarting delivery process reads (deploy/prometheus/).
        headers = {"Authorization": f"Bearer {admin['RBTK_TOKEN']}"}
        scraped = httpx.get(f"{service.url}/metrics", headers=headers).text
        assert "rbtk_delivery_process_restarts_total 1.0" in scraped.splitlines()


def test_killing_serve_takes_its_delivery_process_with_it(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    with start() as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)
        send(env, pool_offline("off-1", ago(90), "pool-1"))
        wait_for(emulator.events, what="a page, so the delivery process is up")
        child = delivery_process(service)

        service.process.kill()
        service.process.wait()

        wait_for(lambda: not alive(child), timeout_s=5, what="the orphaned delivery process to die")


def test_sigterm_stops_both_processes_and_exits_0(start: Start) -> None:
    with start() as service:
        child = delivery_process(service)
        service.process.send_signal(signal.SIGTERM)
        code = service.process.wait(timeout=20)

    assert code == 0
    assert not alive(child)


def test_ctrl_c_stops_both_processes_without_a_restart(start: Start, tmp_path: Path) -> None:
    with start() as service:
        child = delivery_process(service)
        # A terminal sends SIGINT to the whole process group: serve and its child.
        os.kill(child, signal.SIGINT)
        os.kill(service.process.pid, signal.SIGINT)
        code = service.process.wait(timeout=20)

    assert code == 0
    assert not alive(child)
    assert "restarting" not in (tmp_path / "rbtk.log").read_text()


def test_metrics_count_the_deliveries_the_delivery_process_made(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    with start() as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)
        send(env, pool_offline("off-1", ago(90), "pool-1"))
        wait_for(emulator.events, what="a page")
        headers = {"Authorization": f"Bearer {admin['RBTK_TOKEN']}"}

        def sent() -> list[str]:
            text = httpx.get(f"{service.url}/metrics", headers=headers).text
            return [line for line in text.splitlines() if line.startswith("rbtk_deliveries_total")]

        where = 'channel="",connector="pd-production",kind="pagerduty"'
        lines = wait_for(
            sent,
            until=lambda lines: f'rbtk_deliveries_total{{{where},verdict="sent"}} 1.0' in lines,
            what="the delivery counted in /metrics",
        )
        # The verdicts it has not had are there too, at 0: alert rules see their first change.
        assert lines == [
            f'rbtk_deliveries_total{{{where},verdict="sent"}} 1.0',
            f'rbtk_deliveries_total{{{where},verdict="retry"}} 0.0',
            f'rbtk_deliveries_total{{{where},verdict="failed"}} 0.0',
        ]


def test_serve_is_not_ready_until_its_delivery_process_delivers(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    with start() as service:
        first = delivery_process(service)
        wait_for(lambda: httpx.get(f"{service.url}/readyz").status_code == 200, what="ready")
        os.kill(first, signal.SIGKILL)
        second = wait_for(
            lambda: [c for c in children(service.process.pid) if c != first],
            timeout_s=10,
            what="a new delivery process",
        )[0]
        os.kill(second, signal.SIGSTOP)  # still importing: a Python start takes far longer
        try:
            starting = httpx.get(f"{service.url}/readyz")
        finally:
            os.kill(second, signal.SIGCONT)

        assert starting.status_code == 503
        assert starting.json()["checks"]["delivery"]["ok"] is False
        wait_for(lambda: httpx.get(f"{service.url}/readyz").status_code == 200, what="ready again")
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)
        send(env, pool_offline("off-1", ago(90), "pool-1"))
        wait_for(lambda: pages(emulator) == ["rbtk:pool-offline:warehouse:pool-1"], what="a page")


def test_a_first_start_says_where_the_settings_are_and_how_to_get_in(
    start: Start, tmp_path: Path
) -> None:
    with start(RBTK_LOG_FORMAT="text") as service:
        root = httpx.get(f"{service.url}/")
        docs = httpx.get(f"{service.url}/docs")
        schema = httpx.get(f"{service.url}/openapi.json")

    said = (tmp_path / "rbtk.log").read_text()
    assert f"settings pages at {service.url}/settings" in said
    assert "no admin token yet: create one with `RBTK_DATA_DIR=" in said
    assert "rbtk tokens create --scope admin --name ops` and sign in with it" in said
    assert (root.status_code, root.headers["location"]) == (307, "/settings")
    assert docs.status_code == 404  # Swagger UI would load from a CDN: blank when air-gapped
    assert schema.json()["info"]["title"] == "rbtk"

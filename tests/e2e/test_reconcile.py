"""Reconcile through real processes: rbtk serve reads the emulator's REST API (PagerDuty's
open incidents) and settles what drifted from its own lanes."""

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Emulator, Start
from tests.e2e.processes import rbtk
from tests.e2e.test_paging import add_connector, send
from tests.factories import KEY, evidence
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

TOKEN = "y_NbAkKc66ryYTWUXYEu"  # a REST API key's shape: 20 characters
SERVICE = "PWARE01"
EVIDENCE_KEY = "rbtk:evidence-fail:warehouse:v1.4.0"


@pytest.fixture
def pagerduty(emulator: Emulator) -> Emulator:
    """The emulator with a service fed by KEY and its REST API open to TOKEN."""
    service = {"name": "Warehouse releases", "integration_keys": [KEY]}
    httpx.put(f"{emulator.url}/_control/services/{SERVICE}", json=service).raise_for_status()
    httpx.put(f"{emulator.url}/_control/rest", json={"tokens": [TOKEN]}).raise_for_status()
    return emulator


def extra(emulator: Emulator) -> dict[str, str]:
    """Passes on demand only, judging every answer at once (the emulator applies events
    before it answers them)."""
    return {
        "RBTK_PAGERDUTY_API_URL": emulator.url,
        "RBTK_RECONCILE_EVERY_S": "0",
        "RBTK_RECONCILE_GRACE_S": "0",
    }


def set_up(env: dict[str, str], token: str = TOKEN) -> None:
    add_connector(env)
    updated = rbtk(
        "admin", "pd", "connectors", "update", "pd-production",
        "--rest-key", token, "--service-id", SERVICE, env=env,
    )  # fmt: skip
    assert updated.returncode == 0, updated.stderr


def reconcile(env: dict[str, str], *options: str) -> dict[str, Any]:
    ran = rbtk(
        "admin", "pd", "reconcile", "--connector", "pd-production", *options,
        env={**env, "RBTK_OUTPUT": "json"},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    summary: dict[str, Any] = json.loads(ran.stdout)
    return summary


def incident_id(emulator: Emulator, key: str) -> str:
    found = httpx.get(f"{emulator.url}/_inspect/incidents").json()["incidents"]
    return str(next(i["id"] for i in found if i["incident_key"] == key))


def open_alert(emulator: Emulator, key: str) -> bool:
    return any(a["dedup_key"] == key for a in emulator.alerts("open"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_resolve_dropped_by_a_pagerduty_maintenance_window_is_sent_again(
    start: Start, admin: dict[str, str], pagerduty: Emulator
) -> None:
    with start(**extra(pagerduty)) as service:
        env = {**admin, "RBTK_URL": service.url}
        set_up(env)
        now = datetime.now(UTC).replace(microsecond=0)
        send(env, evidence("ev-1", now, "v1.4.0"))
        wait_for(lambda: open_alert(pagerduty, EVIDENCE_KEY), what="the page at PagerDuty")
        httpx.put(f"{pagerduty.url}/_control/maintenance", json={"drop_resolves": True})

        send(env, evidence("ev-2", now, "v1.4.0", failed=False))
        wait_for(
            lambda: [e for e in pagerduty.events() if e["event_action"] == "resolve"],
            what="the resolve PagerDuty dropped",
        )
        assert open_alert(pagerduty, EVIDENCE_KEY)
        httpx.put(f"{pagerduty.url}/_control/maintenance", json={"drop_resolves": False})

        summary = reconcile(env)

        assert (summary["found"], summary["fixed"], summary["left"]) == (1, 1, 0)
        assert summary["resent"] == [EVIDENCE_KEY]
        wait_for(lambda: not open_alert(pagerduty, EVIDENCE_KEY), what="resolved at last")
        assert reconcile(env)["found"] == 0  # and nothing more to do


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_incident_resolved_by_hand_is_shown_so_and_not_paged_again(
    start: Start, admin: dict[str, str], pagerduty: Emulator
) -> None:
    with start(**extra(pagerduty)) as service:
        env = {**admin, "RBTK_URL": service.url}
        set_up(env)
        send(env, evidence("ev-1", datetime.now(UTC).replace(microsecond=0), "v1.4.0"))
        wait_for(lambda: open_alert(pagerduty, EVIDENCE_KEY), what="the page at PagerDuty")
        by_hand = incident_id(pagerduty, EVIDENCE_KEY)
        httpx.post(f"{pagerduty.url}/_control/incidents/{by_hand}/resolve").raise_for_status()

        summary = reconcile(env)

        assert summary["by_hand"] == [EVIDENCE_KEY]
        assert (summary["found"], summary["fixed"], summary["left"]) == (1, 0, 1)
        shown = rbtk("admin", "pd", "incidents", "list", env={**env, "RBTK_OUTPUT": "json"})
        assert shown.returncode == 0, shown.stderr
        [incident] = json.loads(shown.stdout)["incidents"]
        [lane] = incident["connectors"]
        assert lane["state"] == "resolved in PagerDuty by hand"
        assert lane["resolved_in_pagerduty_at"] is not None
        assert [a["dedup_key"] for a in pagerduty.alerts()] == [EVIDENCE_KEY]  # not paged again


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_rbtk_incident_with_no_record_here_is_listed_and_resolved_with_one_click(
    start: Start, admin: dict[str, str], pagerduty: Emulator
) -> None:
    old = "rbtk:pool-offline:warehouse:from-an-old-database"
    trigger = {
        "routing_key": KEY,
        "event_action": "trigger",
        "dedup_key": old,
        "payload": {"summary": "from before the restore", "source": "rbtk", "severity": "error"},
    }
    httpx.post(f"{pagerduty.url}/v2/enqueue", json=trigger).raise_for_status()
    with start(**extra(pagerduty)) as service:
        env = {**admin, "RBTK_URL": service.url}
        set_up(env)

        summary = reconcile(env)

        [unknown] = summary["unknown"]
        assert (unknown["dedup_key"], unknown["title"]) == (old, "from before the restore")
        assert summary["left"] == 1
        resolved = rbtk(
            "admin", "pd", "reconcile", "--connector", "pd-production",
            "--resolve-unknown", old, env=env,
        )  # fmt: skip
        assert resolved.returncode == 0, resolved.stderr
        wait_for(lambda: not open_alert(pagerduty, old), what="the unknown incident resolved")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_wrong_rest_api_key_is_a_clear_error_not_a_crash(
    start: Start, admin: dict[str, str], pagerduty: Emulator
) -> None:
    with start(**extra(pagerduty)) as service:
        env = {**admin, "RBTK_URL": service.url}
        set_up(env, token="wrongwrongwrongwrong")

        ran = rbtk("admin", "pd", "reconcile", "--connector", "pd-production", env=env)

        assert ran.returncode == 1
        assert ran.stderr.startswith(
            "error: PagerDuty's REST API refused the REST API key (HTTP 401: Authentication "
            "failed): set a valid key on the connector"
        )
        assert "wrongwrong" not in ran.stderr
        assert httpx.get(f"{service.url}/healthz").status_code == 200

"""`rbtk admin pd connectors check NAME`: PagerDuty service health, check by check."""

import httpx

from tests.cli.conftest import Rbtk, add_connector
from tests.factories import KEY

TOKEN = "y_NbAkKc66ryYTWUXYEu"


def test_it_prints_each_check_and_exits_1_when_one_fails(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client
) -> None:
    pd.put(
        "/_control/services/PWARE01",
        json={"name": "Warehouse", "integration_keys": [KEY], "auto_resolve_timeout": 14400},
    ).raise_for_status()
    pd.put("/_control/rest", json={"tokens": [TOKEN]}).raise_for_status()
    add_connector(api, "pd-production", rest_key=TOKEN, service_id="PWARE01")

    result = rbtk("admin", "pd", "connectors", "check", "pd-production")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "pd-production (service Warehouse)",
        "ok    alert grouping: off: each dedup key is its own incident",
        "ok    incident behaviour: creates alerts and incidents",
        "FAIL  auto-resolve: PagerDuty resolves incidents left open for 4 h, behind rbtk's "
        "back while the condition still fires (a pool offline for hours): set auto-resolution "
        "to Never; rbtk resolves when the condition clears",
        "warn  urgency: every page is high urgency, whatever its severity: set the urgency to "
        '"based on alert severity" for Roboticks\' severities to count',
        "ok    tested end to end: new connector",
        "urgency per severity: info high, warning high, error high, critical high",
    ]
    assert result.stderr == "error: pd-production: fix what is marked FAIL above\n"


def test_without_a_rest_api_key_it_checks_what_rbtk_knows(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-production")

    result = rbtk("admin", "pd", "connectors", "check", "pd-production")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "pd-production",
        "warn  PagerDuty service: set a REST API key and the service id (the connector's "
        "reconcile settings) to check the service's own settings",
        "ok    tested end to end: new connector",
    ]

"""`rbtk admin pd webhooks enable|show|ping|disable` against a running rbtk and its emulator,
and what `incidents list` then says of an acknowledge by hand in PagerDuty."""

from datetime import UTC, datetime

import httpx
import pytest

from tests.cli.conftest import Rbtk, add_connector, shown
from tests.factories import KEY as SERVICE_KEY
from tests.factories import evidence
from tests.waiting import wait_for

TOKEN = "y_NbAkKc66ryYTWUXYEu"
SERVICE = "PWARE01"
AUTH = {"Authorization": f"Token token={TOKEN}"}


@pytest.fixture
def subscribable(api: httpx.Client, pd: httpx.Client) -> None:
    """pd-production, with a REST API key and the service the emulator knows."""
    pd.put(
        f"/_control/services/{SERVICE}",
        json={"name": "Warehouse", "integration_keys": [SERVICE_KEY]},
    ).raise_for_status()
    pd.put("/_control/rest", json={"tokens": [TOKEN]}).raise_for_status()
    add_connector(api, "pd-production", SERVICE_KEY, rest_key=TOKEN, service_id=SERVICE)


def test_enable_show_ping_and_disable_a_connectors_subscription(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client, service: str, subscribable: None
) -> None:
    url = f"{service}/api/v1/pagerduty/webhooks/pd-production"

    enabled = rbtk(
        "admin", "pd", "webhooks", "enable", "--connector", "pd-production", "--delivery-url", url
    )

    assert (enabled.exit_code, enabled.stderr) == (0, "")
    [subscription] = pd.get("/webhook_subscriptions", headers=AUTH).json()["webhook_subscriptions"]
    created = api.get("/api/v1/pagerduty/connectors/pd-production/webhooks").json()["created_at"]
    assert enabled.stdout.splitlines() == [
        "connector:     pd-production",
        f"subscription:  {subscription['id']}",
        f"delivers to:   {url}",
        f"created:       {shown(created)}",
        "at PagerDuty:  active: yes",
        "last delivery: none yet",
    ]
    pinged = rbtk("admin", "pd", "webhooks", "ping", "--connector", "pd-production")
    assert (pinged.exit_code, pinged.stdout) == (
        0,
        "pd-production: PagerDuty's ping arrived, signed\n",
    )
    shown_now = rbtk("admin", "pd", "webhooks", "show", "--connector", "pd-production")
    assert shown_now.exit_code == 0
    assert shown_now.stdout.splitlines()[-1].endswith("(pagey.ping)")
    disabled = rbtk("admin", "pd", "webhooks", "disable", "--connector", "pd-production")
    assert (disabled.exit_code, disabled.stdout) == (0, "pd-production: webhooks disabled\n")
    gone = rbtk("admin", "pd", "webhooks", "show", "--connector", "pd-production")
    assert gone.exit_code == 1
    assert "has no webhook subscription" in gone.stderr


def test_incidents_list_says_who_acknowledged_in_pagerduty(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client, service: str, subscribable: None
) -> None:
    url = f"{service}/api/v1/pagerduty/webhooks/pd-production"
    assert rbtk("admin", "pd", "webhooks", "enable", "--connector", "pd-production",
                "--delivery-url", url).exit_code == 0  # fmt: skip
    at = datetime.now(UTC)
    assert api.post("/api/v1/events", json=evidence("ev-1", at, "v1.4.0")).status_code == 202
    [incident] = wait_for(lambda: pd.get("/_inspect/incidents").json()["incidents"])
    pd.post(
        f"/_control/incidents/{incident['id']}/acknowledge", json={"agent": "Alice Oncall"}
    ).raise_for_status()
    [lane] = wait_for(
        lambda: api.get("/api/v1/incidents").json()["incidents"][0]["connectors"],
        until=lambda lanes: (lanes[0]["pagerduty"] or {}).get("status") == "acknowledged",
        what="the acknowledge delivered",
    )

    listed = rbtk("admin", "pd", "incidents", "list")

    assert listed.exit_code == 0
    assert (
        f"pd-production: sent, acknowledged in PagerDuty by Alice Oncall at "
        f"{shown(lane['pagerduty']['at'])}"
    ) in listed.stdout

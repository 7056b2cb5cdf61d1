"""Integrations → PagerDuty → Incidents, with the connector subscribed to PagerDuty's
webhooks: an acknowledge by hand in PagerDuty reads on the page as who did it, and when."""

from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.factories import KEY, evidence
from tests.waiting import wait_for
from tests.web.conftest import Service, add_connector

pytestmark = pytest.mark.e2e

INCIDENTS = "/settings/integrations/pagerduty/incidents"
TOKEN = "y_NbAkKc66ryYTWUXYEu"
SERVICE = "PWARE01"


def test_an_acknowledge_by_hand_in_pagerduty_shows_who_acknowledged(
    signed_in: Page, service: Service
) -> None:
    with httpx.Client(base_url=service.emulator.url, timeout=5) as pd:
        pd.put(
            f"/_control/services/{SERVICE}", json={"name": "Warehouse", "integration_keys": [KEY]}
        ).raise_for_status()
        pd.put("/_control/rest", json={"tokens": [TOKEN]}).raise_for_status()
        add_connector(service, "pd-production", KEY, rest_key=TOKEN, service_id=SERVICE)
        with service.api() as api:
            subscribed = api.post("/api/v1/pagerduty/connectors/pd-production/webhooks")
            assert subscribed.status_code == 201, subscribed.text
            at = datetime.now(UTC)
            assert (
                api.post("/api/v1/events", json=evidence("ev-1", at, "v1.4.0")).status_code == 202
            )
            [incident] = wait_for(lambda: pd.get("/_inspect/incidents").json()["incidents"])
            pd.post(
                f"/_control/incidents/{incident['id']}/acknowledge", json={"agent": "Alice Oncall"}
            ).raise_for_status()
            wait_for(
                lambda: api.get("/api/v1/incidents").json()["incidents"][0]["connectors"][0][
                    "pagerduty"
                ],
                until=lambda side: side and side["status"] == "acknowledged",
                timeout_s=5,
                what="the acknowledge delivered",
            )
    page = signed_in

    page.goto(INCIDENTS)

    row = page.locator("table.incidents tbody tr").filter(has_text=incident["incident_key"])
    expect(row).to_contain_text("pd-production: sent, acknowledged in PagerDuty by Alice Oncall at")

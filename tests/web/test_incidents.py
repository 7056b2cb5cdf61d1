"""Integrations → PagerDuty → Incidents: firing, pending with when it pages, not paged and
why, resolve by hand; new incidents appear while the page is open."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.factories import OTHER_KEY, event, pool_offline
from tests.waiting import wait_for
from tests.web.conftest import Service, add_connector

pytestmark = pytest.mark.e2e

INCIDENTS = "/settings/integrations/pagerduty/incidents"
AMENDMENT = "rbtk:standard-amendment:plant:iec-61508:A3"


def test_firing_and_pending_incidents_and_resolving_one_by_hand(
    signed_in: Page, service: Service
) -> None:
    add_connector(service, "pd-plant", OTHER_KEY, enable=["standard_amendment"])
    at = datetime.now(UTC)
    events = [
        pool_offline("plant-off", at - timedelta(minutes=5), "line-7", project="plant"),
        event(
            "plant-amend",
            "standard.amendment_published",
            at,
            project="plant",
            standard="iec-61508",
            amendment="A3",
            title="Third amendment",
            pinned=True,
        ),
    ]
    with service.api() as api:
        assert api.post("/api/v1/events", json={"events": events}).status_code == 200
    wait_for(
        lambda: [e for e in service.emulator.events() if e["dedup_key"] == AMENDMENT],
        what="the amendment paged",
    )
    page = signed_in

    page.goto(f"{INCIDENTS}?state=pending")
    chart = page.get_by_role("img", name="Last 24 hours, per hour")
    expect(chart).to_contain_text("00")  # the hour ticks
    expect(chart.locator("rect.bar-trigger")).not_to_have_count(0)  # the amendment's page
    pending = page.locator("table.incidents tbody tr").filter(has_text="line-7")
    expect(pending).to_contain_text("Pending")
    expect(pending).to_contain_text("pages at")
    expect(pending).to_contain_text("in 7 min")  # offline 7 minutes ago, pages at 15

    page.get_by_role("navigation", name="Which incidents").get_by_role(
        "link", name="Firing"
    ).click()
    firing = page.locator("table.incidents tbody tr").filter(has_text=AMENDMENT)
    expect(firing).to_contain_text("pd-plant: sent")
    firing.get_by_role("button", name=f"Resolve {AMENDMENT} by hand").click()

    expect(page.get_by_role("status").first).to_contain_text(
        f"Resolved {AMENDMENT}: its resolve is on its way to 1 connector."
    )
    expect(page.locator("table.incidents tbody tr").filter(has_text=AMENDMENT)).to_have_count(0)
    wait_for(
        lambda: [a for a in service.emulator.alerts("resolved") if a["dedup_key"] == AMENDMENT],
        what="the amendment resolved at PagerDuty",
    )

    # With the rule switched off, the next amendment fires but pages nobody: never "Firing".
    # The page is open before it arrives: it refreshes itself, and says so. Its clock is the
    # test's: the refresh comes when the test moves it on, not up to 5 s later.
    page.clock.install()
    page.goto(INCIDENTS)
    expect(page.get_by_role("button", name="Auto-refresh every 5 s: on")).to_be_visible()
    with service.api() as api:
        switched = api.patch(
            "/api/v1/pagerduty/connectors/pd-plant", json={"disable": ["standard_amendment"]}
        )
        assert switched.status_code == 200, switched.text
        again = event(
            "plant-amend-4",
            "standard.amendment_published",
            datetime.now(UTC),
            project="plant",
            standard="iec-61508",
            amendment="A4",
            pinned=True,
        )
        assert api.post("/api/v1/events", json=again).status_code == 202
        wait_for(
            lambda: any(
                i["dedup_key"].endswith("iec-61508:A4")
                for i in api.get("/api/v1/incidents").json()["incidents"]
            ),
            what="the new amendment recorded",
        )
    unpaged = page.locator("table.incidents tbody tr").filter(has_text="iec-61508:A4")
    page.clock.run_for(6_000)
    expect(unpaged).to_contain_text("Not paged")  # at the next refresh
    expect(unpaged).to_contain_text("rule standard_amendment is switched off on pd-plant")
    expect(unpaged).not_to_contain_text("Firing")

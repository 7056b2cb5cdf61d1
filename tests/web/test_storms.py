"""A storm as an operator meets it: from the umbrella incident's link to every member, and
the connector's storm settings."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.factories import KEY, pool_offline
from tests.waiting import wait_for
from tests.web.conftest import Service, add_connector

pytestmark = pytest.mark.e2e


def test_the_umbrella_links_to_a_page_listing_every_member(
    signed_in: Page, service: Service
) -> None:
    add_connector(service, "pd-storm", KEY)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    offline = [pool_offline(f"storm-{i}", an_hour_ago, f"rack-{i:02}") for i in range(26)]
    with service.api() as api:
        assert api.post("/api/v1/events", json={"events": offline}).status_code == 200
    umbrella = wait_for(
        lambda: [e for e in service.emulator.events() if e["dedup_key"].startswith("rbtk:storm:")],
        what="the umbrella at PagerDuty",
    )[0]
    [link] = umbrella["body"]["links"]
    assert link["text"] == "Every member, in rbtk"

    page = signed_in
    page.goto(link["href"])

    expect(page.get_by_role("heading", level=1)).to_have_text("Storm #1 on pd-storm")
    expect(page.locator("main")).to_contain_text(
        "Storm: 6 runner pools offline in warehouse (6 air-gapped)"
    )
    rows = page.locator("table.members tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.first).to_contain_text("Air-gapped pool rack-20 offline for 62 minutes")
    expect(rows.first).to_contain_text("Held")
    page.get_by_role("navigation", name="PagerDuty").get_by_role("link", name="Storms").click()
    expect(page.locator("table.storms tbody tr")).to_contain_text("#1 on pd-storm")

    # The umbrella is an incident too, and each member's "held by storm #1" leads to it.
    page.get_by_role("navigation", name="PagerDuty").get_by_role("link", name="Incidents").click()
    incidents = page.locator("table.incidents tbody tr")
    umbrella_row = incidents.filter(has_text=umbrella["dedup_key"])
    expect(umbrella_row).to_contain_text("Storm: 6 runner pools offline in warehouse")
    expect(umbrella_row).to_contain_text("Firing")
    incidents.filter(has_text="rack-20").get_by_role("link", name="held by storm #1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Storm #1 on pd-storm")


def test_storm_collapse_is_set_on_the_connectors_page(signed_in: Page, service: Service) -> None:
    add_connector(service, "pd-quiet", KEY, is_default=False)
    page = signed_in
    page.goto("/settings/integrations/pagerduty/connectors/pd-quiet")

    expect(page.get_by_label("Collapse storms into one incident")).to_be_checked()
    page.get_by_label("More than").fill("50")
    page.get_by_label("new incidents within").fill("120")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("status").first).to_contain_text(
        "storms collapse (more than 50 new incidents within 120 s)"
    )
    page.get_by_label("Collapse storms into one incident").uncheck()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").first).to_contain_text("storms not collapsed")
    with service.api() as api:
        storm = api.get("/api/v1/pagerduty/connectors/pd-quiet").json()["storm"]
    assert storm == {"collapse": False, "threshold": 50, "window_s": 120}

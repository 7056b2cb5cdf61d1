"""Integrations → PagerDuty → Events: why a pull-request failure did not page, and from a
delivery-log row to the event that queued it."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.factories import OTHER_KEY, event, evidence, pool_offline
from tests.waiting import wait_for
from tests.web.conftest import PHONE, Service, add_connector

pytestmark = pytest.mark.e2e

EVENTS = "/settings/integrations/pagerduty/events"


def test_the_events_page_says_why_a_pull_request_failure_did_not_page(
    signed_in: Page, service: Service
) -> None:
    add_connector(service, "pd-lab", OTHER_KEY)
    at = datetime.now(UTC)
    pr_failure = event(
        "lab-pr-42", "test_run.completed", at, project="lab",
        run_id="run-9", branch="feature/x", default_branch=False, pull_request=42,
        status="failed", tests=[{"id": "nav/test_lidar", "status": "failed"}],
    )  # fmt: skip
    paging = pool_offline("lab-off", at - timedelta(minutes=20), "line-7", project="lab")
    with service.api() as api:
        answer = api.post("/api/v1/events", json={"events": [pr_failure, paging]})
        assert answer.status_code == 200
    page = signed_in

    page.goto(EVENTS)
    page.get_by_label("Project").fill("lab")
    page.get_by_label("Paged").select_option("no")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.events tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("lab-pr-42")
    expect(rows.first).to_contain_text("pull request #42: runs on pull requests never page")

    rows.first.get_by_role("link", name="lab-pr-42").click()
    expect(page.locator("#paged")).to_have_text("no")
    expect(page.locator("#reasons")).to_contain_text("runs on pull requests never page")
    expect(page.get_by_text("It queued no delivery")).to_be_visible()


def test_a_delivery_log_row_links_to_its_event(signed_in: Page, service: Service) -> None:
    add_connector(service, "pd-depot", OTHER_KEY)
    at = datetime.now(UTC)
    paging = pool_offline("depot-off", at - timedelta(minutes=20), "line-9", project="depot")
    with service.api() as api:
        assert api.post("/api/v1/events", json=paging).status_code == 202
    wait_for(
        lambda: [e for e in service.emulator.events() if "line-9" in e["dedup_key"]],
        what="the page sent",
    )
    page = signed_in

    page.goto("/settings/integrations/pagerduty/deliveries")
    page.get_by_role("link", name="depot-off").first.click()

    expect(page.locator("#paged")).to_have_text("yes")
    sent = page.locator("table.event-rows tbody tr").filter(has_text="pd-depot")
    expect(sent).to_contain_text("Trigger critical")
    expect(sent).to_contain_text("Sent")
    decision = page.locator("#decisions li").filter(has_text="pd-depot")
    expect(decision).to_contain_text("Sent pd-depot (critical): sent to pd-depot as critical")
    expect(page.locator("#open-heading")).to_have_text("Still open")


def test_on_a_phone_why_not_stays_inside_each_events_card(
    signed_in: Page, service: Service
) -> None:
    add_connector(service, "pd-phone", OTHER_KEY)
    at = datetime.now(UTC)
    tag = "v1.4.0+build.20261201.nav.lidar.calibration.0123456789abcdef"
    with service.api() as api:
        failed, regenerated = (
            evidence(f"phone-{n}", at, tag, failed=n == 1, project="phone") for n in (1, 2)
        )
        answer = api.post("/api/v1/events", json={"events": [failed, regenerated]})
        assert answer.status_code == 200
    page = signed_in
    page.set_viewport_size(PHONE)

    page.goto(f"{EVENTS}?project=phone")
    cards = page.locator("table.events tbody tr")
    expect(cards.filter(has_text="phone-2")).to_contain_text("resolves rbtk:evidence-fail")
    overflows = cards.evaluate_all(
        """cards => cards.map(card => {
          const reasons = document.createRange();
          reasons.selectNodeContents(card.querySelector("td[data-label='Why not']"));
          return reasons.getBoundingClientRect().right - card.getBoundingClientRect().right;
        })"""
    )
    assert max(overflows) <= 0, overflows

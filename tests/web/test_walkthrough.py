"""The documented steps, in a real browser, end to end: Settings → Integrations → PagerDuty."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.factories import KEY
from tests.waiting import wait_for
from tests.web.conftest import Service, readme_screenshot, sign_in

pytestmark = pytest.mark.e2e

REST_API_KEY = "u+Ab12Cd34Ef56Gh78Ij"  # the 20-character key people paste by mistake
STAGING_KEY = "fedcba9876543210fedcba9876543210"


def test_an_operator_adds_pd_production_tests_it_and_reads_the_delivery_log(
    page: Page, service: Service
) -> None:
    page.goto("/settings")
    expect(page).to_have_url(re.compile(r"/settings/sign-in\?next="))
    sign_in(page, service.token)
    expect(page).to_have_url(re.compile(r"/settings$|/settings/integrations/pagerduty$"))

    # Settings → Integrations → PagerDuty → Add.
    page.goto("/settings/integrations")
    page.get_by_role("link", name="PagerDuty", exact=True).click()
    page.get_by_role("navigation", name="PagerDuty").get_by_role("link", name="Add").click()
    expect(page.get_by_role("heading", name="Add a PagerDuty connector")).to_be_visible()
    page.get_by_label("Connector name").fill("pd-production")

    # A REST API key is refused as the field is left, with its own message...
    key = page.get_by_label("Integration Key", exact=True)
    key.fill(REST_API_KEY)
    key.press("Tab")
    check = page.locator("#add-key-check")
    expect(check).to_contain_text("looks like a REST API key (20 characters)")
    expect(key).to_have_attribute("aria-invalid", "true")
    readme_screenshot(page, "add-connector-rest-api-key")

    # ...and again when the form is sent anyway; an invalid key is asked for again, never echoed.
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_role("alert")).to_contain_text("looks like a REST API key")
    expect(page.get_by_label("Connector name")).to_have_value("pd-production")
    expect(key).to_have_value("")
    assert REST_API_KEY not in page.content()

    # The toggles start at the documented defaults: standard amendments off.
    for toggle in (
        "Evidence pack failed on a release",
        "Air-gapped pool offline",
        "Any pool offline",
    ):
        expect(page.get_by_label(toggle)).to_be_checked()
    expect(page.get_by_label("Post-release regression")).to_be_checked()
    expect(page.get_by_label("Pinned standard amended")).not_to_be_checked()

    key.fill(KEY)
    key.press("Tab")
    expect(check).to_contain_text("Looks like an Integration Key (••••••••…cdef)")
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_role("heading", name="pd-production")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text(
        "Connector pd-production added with key ••••••••…cdef"
    )
    assert KEY not in page.content()

    # Toggle an event type.
    page.get_by_label("Pinned standard amended").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Saved pd-production: Pinned standard amended on."
    )
    expect(page.get_by_label("Pinned standard amended")).to_be_checked()

    # Send test event: the outcome shows inline, and the emulator got the trigger.
    page.get_by_role("button", name="Send test event").click()
    outcome = page.locator("#test-outcome")
    expect(outcome).to_contain_text("Sent. PagerDuty accepted the test event (HTTP 202")
    dedup_key = outcome.locator("code").inner_text()
    assert dedup_key.startswith("rbtk:test:pd-production:")
    received = wait_for(
        lambda: [e for e in service.emulator.events() if e["dedup_key"] == dedup_key],
        what="the test trigger at the emulator",
    )
    assert [(e["event_action"], e["routing_key"]) for e in received] == [("trigger", KEY)]
    readme_screenshot(page, "connector")

    # Delivery log: the test trigger, sent.
    outcome.get_by_role("link", name="See it in the delivery log").click()
    row = page.locator("table.log tbody tr").filter(has_text=dedup_key)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Trigger")
    expect(row.locator(".badge")).to_have_text("Sent")
    expect(row).to_contain_text("202")

    # A second connector, not a default one.
    page.get_by_role("navigation", name="PagerDuty").get_by_role("link", name="Add").click()
    page.get_by_label("Connector name").fill("pd-staging")
    page.get_by_label("Integration Key", exact=True).fill(STAGING_KEY)
    page.get_by_label("Default connector").uncheck()
    page.get_by_label("Severity cap").select_option("warning")
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_role("heading", name="pd-staging")).to_be_visible()
    urgency = page.get_by_role("region", name="Expected urgency per severity")
    expect(urgency.locator("tbody tr").first).to_contain_text("warning")  # critical, capped

    # A routing rule: the staging project's pages go to pd-staging.
    page.get_by_role("navigation", name="PagerDuty").get_by_role("link", name="Routing").click()
    add = page.locator("form.rule-form")
    add.get_by_label("Project").fill("warehouse-staging")
    add.get_by_label("pd-staging").check()
    add.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("status").first).to_have_text("Rule added.")
    rule = page.locator("table.rules tbody tr")
    expect(rule).to_have_count(1)
    expect(rule).to_contain_text("warehouse-staging")
    expect(rule).to_contain_text("pd-staging")
    explain = page.locator("#explain")
    explain.get_by_label("Project").fill("warehouse-staging")
    explain.get_by_label("Event type").fill("runner_pool.offline")
    explain.get_by_label("The pool is air-gapped").check()
    explain.get_by_role("button", name="Show where it goes").click()
    expect(page.locator("#explanation")).to_contain_text("Connectors: pd-staging")
    expect(page.locator("#explanation")).to_contain_text(
        "pd-staging, airgapped_pool_offline: pending: offline for 0 s: pages at 15 min"
    )
    expect(page.locator("#explanation")).to_contain_text(
        "then sent as warning (capped from critical)"
    )
    readme_screenshot(page, "routing")

    # A maintenance window on pd-production, then ended early.
    page.get_by_role("navigation", name="PagerDuty").get_by_role(
        "link", name="Suppressions"
    ).click()
    until = datetime.now(UTC) + timedelta(hours=2)
    page.get_by_label("Connector", exact=True).select_option("pd-production")
    page.get_by_label("Until (UTC)").fill(until.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Reason").fill("Maintenance")
    page.get_by_role("button", name="Create suppression").click()
    expect(page.get_by_role("status").first).to_contain_text(
        f"Suppression active for pd-production until {until:%Y-%m-%d %H:%M} UTC"
    )
    window = page.locator("table.windows tbody tr")
    expect(window).to_have_count(1)
    expect(window).to_contain_text("Active")
    expect(window).to_contain_text("Maintenance")
    readme_screenshot(page, "suppressions")
    page.get_by_role("navigation", name="PagerDuty").get_by_role("link", name="Connectors").click()
    expect(
        page.locator("table.connectors tbody tr").filter(has_text="pd-production")
    ).to_contain_text(f"Active until {until:%Y-%m-%d %H:%M}")
    readme_screenshot(page, "connectors")
    page.get_by_role("navigation", name="PagerDuty").get_by_role(
        "link", name="Suppressions"
    ).click()
    page.get_by_role("button", name="End suppression").click()
    expect(page.get_by_role("status").first).to_contain_text("ended")
    expect(page.get_by_text("No suppression is active or scheduled.")).to_be_visible()

    page.get_by_role("navigation", name="PagerDuty").get_by_role("link", name="Connectors").click()
    rows = page.locator("table.connectors tbody tr")
    expect(rows).to_have_count(2)
    production = rows.filter(has_text="pd-production")
    expect(production).to_contain_text("••••••••…cdef")
    expect(production).to_contain_text("Pinned standard amended")
    expect(production.locator(".badge")).to_have_text("Sent")
    expect(rows.filter(has_text="pd-staging")).to_contain_text("Never sent")
    expect(rows.filter(has_text="pd-staging")).to_contain_text("warning")
    expect(production).to_contain_text("None")  # the suppression has ended
    assert KEY not in page.content() and STAGING_KEY not in page.content()

    page.goto("/settings/integrations/pagerduty/deliveries")
    readme_screenshot(page, "delivery-log")

    # Sign out, and the pages are closed.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.goto("/settings/integrations/pagerduty")
    expect(page).to_have_url(re.compile(r"/settings/sign-in\?next="))
    expect(page.get_by_role("heading", name="Sign in to rbtk settings")).to_be_visible()

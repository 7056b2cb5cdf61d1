"""A connector's "Reconcile with PagerDuty": its settings, the button, what a pass found."""

import sqlite3
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.factories import KEY
from tests.waiting import wait_for
from tests.web.conftest import Service, add_connector

pytestmark = pytest.mark.e2e

SERVICE_ENV = {"RBTK_RECONCILE_EVERY_S": "0", "RBTK_RECONCILE_GRACE_S": "0"}
TOKEN = "y_NbAkKc66ryYTWUXYEu"


@pytest.fixture
def pagerduty(service: Service) -> Service:
    url = service.emulator.url
    httpx.post(f"{url}/_control/reset").raise_for_status()
    service_body = {"name": "Warehouse", "integration_keys": [KEY]}
    httpx.put(f"{url}/_control/services/PWARE01", json=service_body).raise_for_status()
    httpx.put(f"{url}/_control/rest", json={"tokens": [TOKEN]}).raise_for_status()
    return service


def fill_settings(page: Page, name: str, token: str) -> None:
    page.goto(f"/settings/integrations/pagerduty/connectors/{name}")
    page.get_by_label("REST API key", exact=True).fill(token)
    page.get_by_label("PagerDuty service id").fill("PWARE01")
    page.get_by_role("button", name="Save reconcile settings").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved reconcile settings of")


def test_a_wrong_rest_api_key_shows_pagerdutys_refusal_on_the_connector_page(
    signed_in: Page, pagerduty: Service
) -> None:
    page = signed_in
    add_connector(pagerduty, "pd-wrong-key", KEY, is_default=False)
    fill_settings(page, "pd-wrong-key", "wrongwrongwrongwrong")
    expect(page.get_by_label("REST API key", exact=True)).to_have_value("")  # never rendered back

    page.get_by_role("button", name="Reconcile now").click()

    expect(page.locator("#reconcile-error")).to_contain_text("Reconcile cannot read PagerDuty")
    expect(page.locator("#reconcile-error")).to_contain_text(
        "refused the REST API key (HTTP 401: Authentication failed)"
    )
    assert "wrongwrong" not in page.content()


def test_an_unknown_rbtk_incident_is_listed_and_resolved_with_one_click(
    signed_in: Page, pagerduty: Service
) -> None:
    page = signed_in
    old = "rbtk:pool-offline:warehouse:restored"
    trigger = {
        "routing_key": KEY,
        "event_action": "trigger",
        "dedup_key": old,
        "payload": {"summary": "from an old database", "source": "rbtk", "severity": "error"},
    }
    httpx.post(f"{pagerduty.emulator.url}/v2/enqueue", json=trigger).raise_for_status()
    add_connector(pagerduty, "pd-drift", KEY, is_default=False)
    fill_settings(page, "pd-drift", TOKEN)

    page.get_by_role("button", name="Reconcile now").click()

    expect(page.get_by_role("status").first).to_contain_text(
        "Reconciled pd-drift: 1 found, 0 fixed, 1 left for you."
    )
    row = page.locator("#reconcile-unknown tbody tr")
    expect(row).to_contain_text(old)
    expect(row).to_contain_text("from an old database")
    row.get_by_role("button", name="Resolve").click()
    expect(page.locator("#reconcile-unknown tbody tr")).to_contain_text("Resolve queued")
    wait_for(lambda: not pagerduty.emulator.alerts("open"), what="the unknown incident resolved")


def test_a_test_event_seen_on_the_service_marks_the_connector_verified_end_to_end(
    signed_in: Page, pagerduty: Service
) -> None:
    page = signed_in
    add_connector(pagerduty, "pd-verified", KEY, is_default=False)
    fill_settings(page, "pd-verified", TOKEN)
    expect(page.locator("#verified-at")).to_have_text("Never")

    page.get_by_label("Severity", exact=True).select_option("critical")
    page.get_by_role("button", name="Send test event").click()

    expect(page.locator("#test-verified")).to_contain_text(
        "Verified end to end: incident #1 is open on service PWARE01 at high urgency."
    )
    expect(page.locator("#verified-at")).to_contain_text("(high urgency)")


def test_checking_the_service_lists_its_problems_and_the_urgency_it_really_gives(
    signed_in: Page, pagerduty: Service
) -> None:
    page = signed_in
    misconfigured = {
        "name": "Warehouse",
        "integration_keys": [KEY],
        "alert_grouping_parameters": {"type": "time", "config": {"timeout": 0}},
        "incident_urgency_rule": {"type": "constant", "urgency": "low"},
    }
    httpx.put(
        f"{pagerduty.emulator.url}/_control/services/PWARE01", json=misconfigured
    ).raise_for_status()
    add_connector(pagerduty, "pd-checked", KEY, is_default=False)
    fill_settings(page, "pd-checked", TOKEN)
    critical = page.locator("#urgency-heading + p + .table-wrap tbody tr").first
    expect(critical).to_contain_text("High")  # the documented default, before a check

    page.get_by_role("button", name="Check the service").click()

    checks = page.locator("#health-checks")
    expect(checks).to_contain_text(
        "Problem alert grouping: alert grouping is time: PagerDuty's alert grouping overrides "
        "Roboticks' dedup keys"
    )
    expect(checks).to_contain_text("Warning urgency: every page is low urgency")
    expect(critical).to_contain_text("Low")  # what the service really does


def test_a_connector_not_tested_for_90_days_is_on_every_settings_page(
    signed_in: Page, pagerduty: Service
) -> None:
    page = signed_in
    add_connector(pagerduty, "pd-stale", KEY, is_default=False)
    long_ago = (datetime.now(UTC) - timedelta(days=120)).strftime("%Y-%m-%d %H:%M:%S")
    database = pagerduty.env["RBTK_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE connectors SET created_at = ? WHERE name = 'pd-stale'", (long_ago,)
        )

    for path in ("/settings/integrations/pagerduty", "/settings/integrations/pagerduty/incidents"):
        page.goto(path)
        expect(page.locator("#verify-banner")).to_contain_text(
            "Test the rotation end to end: pd-stale (never verified) not verified in 90 days."
        )
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM connectors WHERE name = 'pd-stale'")


def test_a_mistyped_service_id_is_shown_at_its_field_and_kept_to_correct(
    signed_in: Page, service: Service
) -> None:
    # The page once only said it in a banner, with the service id field back as stored.
    page = signed_in
    add_connector(service, "pd-typo", KEY, is_default=False)
    page.goto("/settings/integrations/pagerduty/connectors/pd-typo")
    page.get_by_label("PagerDuty service id").fill("pware01")
    page.get_by_role("button", name="Save reconcile settings").click()

    field = page.get_by_label("PagerDuty service id")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("pware01")
    expect(page.locator("#service_id-error")).to_contain_text(
        "Service id: 'pware01' is not a PagerDuty service id"
    )
    expect(page.get_by_label("REST API key", exact=True)).not_to_have_attribute(
        "aria-invalid", "true"
    )

    page.get_by_label("REST API key", exact=True).fill("short")
    field.fill("PWARE01")
    page.get_by_role("button", name="Save reconcile settings").click()
    key = page.get_by_label("REST API key", exact=True)
    expect(key).to_have_attribute("aria-invalid", "true")
    expect(key).to_have_value("")  # a secret is never put back
    expect(page.locator("#rest_key-error")).to_contain_text("REST API key: has 5 characters")

"""Integrations → PagerDuty → Suppressions: create, list, end early."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.factories import KEY, OTHER_KEY
from tests.web.conftest import Service, add_connector

pytestmark = pytest.mark.e2e

SUPPRESSIONS = "/settings/integrations/pagerduty/suppressions"


@pytest.fixture(scope="module", autouse=True)
def connectors(service: Service) -> None:
    add_connector(service, "pd-production", KEY)
    add_connector(service, "pd-staging", OTHER_KEY, is_default=False)


def local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def shown_time(row: Locator, column: str) -> datetime:
    return datetime.fromisoformat(
        row.locator(f"td[data-label={column}] time").get_attribute("datetime") or ""
    )


def create(page: Page, connector: str, until: str, reason: str, since: str = "") -> None:
    page.get_by_label("Connector", exact=True).select_option(label=connector)
    page.get_by_label("Until (UTC)").fill(until)
    page.get_by_label("Reason").fill(reason)
    page.get_by_label("From (UTC)").fill(since)
    page.get_by_role("button", name="Create suppression").click()


def test_a_scheduled_window_is_listed_then_ended_early(signed_in: Page) -> None:
    page = signed_in
    page.goto(SUPPRESSIONS)
    now = datetime.now(UTC)
    create(
        page,
        "pd-staging",
        local(now + timedelta(days=2)),
        "Rack move",
        local(now + timedelta(days=1)),
    )
    expect(page.get_by_role("status").first).to_contain_text("Suppression scheduled for pd-staging")
    row = page.locator("table.windows tbody tr").filter(has_text="Rack move")
    expect(row.locator(".badge")).to_have_text("Scheduled")
    expect(row).to_contain_text("web")  # who created it: the name of the token signed in with

    row.get_by_role("button", name="End suppression").click()
    expect(page.get_by_role("status").first).to_contain_text("ended")
    expect(page.locator("table.windows").filter(has_text="Rack move")).to_have_count(0)
    page.get_by_role("link", name="Show ended windows").click()
    ended = page.locator("table.windows tbody tr").filter(has_text="Rack move")
    expect(ended.locator(".badge")).to_have_text("Ended")
    expect(ended).to_contain_text(re.compile(r"ended early at \d\d:\d\d by web"))


@pytest.mark.parametrize(
    ("length", "hours"),
    [("1 hour", 1), ("4 hours", 4)],
)
def test_a_window_can_be_given_a_length_instead_of_an_end(
    signed_in: Page, length: str, hours: int
) -> None:
    page = signed_in
    page.goto(SUPPRESSIONS)
    reason = f"Patching for {length}"
    page.get_by_label("Connector", exact=True).select_option(label="pd-production")
    page.get_by_label("How long").select_option(label=length)
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Create suppression").click()

    expect(page.get_by_role("status").first).to_contain_text("Suppression active for pd-production")
    row = page.locator("table.windows tbody tr").filter(has_text=reason)
    assert shown_time(row, "Until") - shown_time(row, "From") == timedelta(hours=hours)
    row.get_by_role("button", name="End suppression").click()
    expect(row).to_have_count(0)


def test_until_tomorrow_0600_ends_the_window_the_next_utc_morning(signed_in: Page) -> None:
    page = signed_in
    page.goto(SUPPRESSIONS)
    today = datetime.now(UTC).date()
    page.get_by_label("Connector", exact=True).select_option(label="pd-staging")
    page.get_by_label("How long").select_option(label="Until tomorrow 06:00 UTC")
    page.get_by_label("Reason").fill("Overnight upgrade")
    page.get_by_role("button", name="Create suppression").click()

    row = page.locator("table.windows tbody tr").filter(has_text="Overnight upgrade")
    until = row.locator("td[data-label=Until] time")
    expect(until).to_have_attribute("datetime", f"{today + timedelta(days=1)}T06:00:00Z")
    expect(until).to_have_text(f"{today + timedelta(days=1)} 06:00:00 UTC")
    row.get_by_role("button", name="End suppression").click()
    expect(row).to_have_count(0)


def test_a_length_and_an_end_time_together_are_refused(signed_in: Page) -> None:
    page = signed_in
    page.goto(SUPPRESSIONS)
    page.get_by_label("How long").select_option(label="4 hours")
    create(page, "pd-production", local(datetime.now(UTC) + timedelta(hours=1)), "Both")

    expect(page.get_by_role("alert")).to_contain_text(
        "Choose a length or type when it ends, not both."
    )
    expect(page.get_by_label("How long")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("How long")).to_have_value("4h")
    expect(page.locator("table.windows").filter(has_text="Both")).to_have_count(0)


def test_a_window_on_all_connectors_covers_each_of_them(signed_in: Page) -> None:
    page = signed_in
    page.goto(SUPPRESSIONS)
    create(page, "All connectors", local(datetime.now(UTC) + timedelta(hours=1)), "Datacenter")
    rows = page.locator("table.windows tbody tr").filter(has_text="Datacenter")
    expect(rows).to_have_count(2)
    page.goto("/settings/integrations/pagerduty")
    for row in page.locator("table.connectors tbody tr").all():
        expect(row).to_contain_text("Active until")
    page.goto(SUPPRESSIONS)
    rows.first.get_by_role("button", name="End suppression").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("button", name="End suppression").click()
    expect(page.get_by_text("No suppression is active or scheduled.")).to_be_visible()


def test_mistakes_are_refused_with_the_services_messages(signed_in: Page) -> None:
    page = signed_in
    page.goto(SUPPRESSIONS)
    create(page, "pd-production", "2020-01-01T00:00", "Too late")
    expect(page.get_by_role("alert")).to_contain_text("2020-01-01T00:00:00Z is in the past")
    expect(page.get_by_label("Until (UTC)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Reason")).to_have_value("Too late")

    create(page, "pd-production", local(datetime.now(UTC) + timedelta(hours=1)), "  ")
    expect(page.get_by_role("alert")).to_contain_text("Reason: must not be empty")

    page.get_by_label("Connector", exact=True).select_option(label="Choose a connector")
    page.get_by_label("Reason").fill("Maintenance")
    page.get_by_role("button", name="Create suppression").click()
    expect(page.get_by_role("alert")).to_contain_text("Give the connector to suppress")

"""Settings → Audit log: a change made on the pages is recorded as the signed-in token's, and
shown newest first with what it changed."""

import pytest
from playwright.sync_api import Page, expect

from tests.factories import KEY, OTHER_KEY
from tests.web.conftest import Service, add_connector, sign_in

pytestmark = pytest.mark.e2e


def test_a_change_on_a_connectors_page_is_shown_in_the_audit_log_as_the_signed_in_token(
    page: Page, service: Service
) -> None:
    sign_in(page, service.create_token("admin", "alice"))
    add_connector(service, "pd-audited", KEY, is_default=False)  # through the API, as "web"
    page.goto("/settings/integrations/pagerduty/connectors/pd-audited")

    page.get_by_label("Send info-severity events").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").first).to_have_text("Saved pd-audited: info events sent.")
    page.get_by_role("navigation", name="PagerDuty").get_by_role("link", name="Audit log").click()

    rows = page.locator("table.audit tbody tr")
    newest = rows.first
    expect(newest.locator("[data-label=Who]")).to_have_text("alice")
    expect(newest.locator("[data-label=What]")).to_have_text("connector.update")
    expect(newest.locator("[data-label=Target]")).to_have_text("pd-audited")
    expect(newest.locator("[data-label=Changes]")).to_have_text("send_info: false → true")
    added = page.locator("table.audit tbody tr", has_text="connector.add").filter(
        has_text="pd-audited"
    )
    expect(added.locator("[data-label=Who]")).to_have_text("web")
    expect(added.locator("[data-label=What]")).to_contain_text("Created")
    expect(added.locator("[data-label=Changes]")).to_contain_text(f"key: ••••••••…{KEY[-4:]}")
    expect(page.locator("body")).not_to_contain_text(KEY)


def test_the_audit_log_filters_by_kind_of_change_and_target(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-filter-a", KEY, is_default=False)
    add_connector(service, "pd-filter-b", OTHER_KEY, is_default=False)
    with service.api() as api:
        api.post(
            "/api/v1/pagerduty/suppressions",
            json={"connector": "pd-filter-b", "reason": "Rack move", "duration_s": 600},
        )
    page.goto("/settings/audit")

    page.get_by_label("Changes of").select_option(label="Suppressions")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit tbody tr")).to_have_count(1)
    expect(page.locator("table.audit tbody tr")).to_contain_text("reason: Rack move")

    page.get_by_label("Changes of").select_option(label="Anything")
    page.get_by_label("Target").fill("pd-filter-a")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit tbody tr [data-label=Target]")).to_have_text(["pd-filter-a"])

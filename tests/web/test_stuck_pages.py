"""A pager that cannot page says so: while PagerDuty answers 500 for longer than
RBTK_STUCK_AFTER_S, every settings page carries a banner, the incidents page names the oldest
undelivered page (at the severity its connector sends it: never "every page delivered" beside
the banner), and the channel marked "rbtk health" is told; once PagerDuty is back and the
page delivered, the banner is gone and the channel is told it recovered."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.factories import KEY, evidence
from tests.waiting import wait_for
from tests.web.conftest import Service, add_connector
from tests.web.test_chat_channels import SlackWebhook, add_channel, slack  # noqa: F401

pytestmark = pytest.mark.e2e

SERVICE_ENV = {"RBTK_STUCK_AFTER_S": "2", "RBTK_SCHEDULER_PASS_S": "0.5"}
INCIDENTS = "/settings/integrations/pagerduty/incidents"
NOTIFICATIONS = "/settings/integrations/notifications"
KEY_STUCK = "rbtk:evidence-fail:plant:v9.1"


def banner_shown(page: Page, path: str, saying: str = "") -> bool:
    page.goto(path)
    banner = page.locator("#stuck-banner")
    return banner.count() == 1 and saying in banner.inner_text()


def test_a_page_stuck_on_http_500_is_shown_on_every_page_and_told_until_it_is_delivered(
    signed_in: Page,
    service: Service,
    slack: SlackWebhook,  # noqa: F811
) -> None:
    page = signed_in
    page.goto(NOTIFICATIONS)
    page.locator("form[data-channel-form]").get_by_label("rbtk health").check()
    add_channel(page, "rbtk-alarms", "slack", slack.url)
    row = page.locator("table.channels tbody tr").filter(has_text="rbtk-alarms")
    expect(row).to_contain_text("told when rbtk cannot page")
    add_connector(service, "pd-stuck", KEY, max_severity="warning")  # the critical page capped
    service.emulator.faults(error_rate=1.0)  # PagerDuty answers every event 500
    failed = evidence("plant-evidence", datetime.now(UTC), "v9.1", project="plant")
    with service.api() as api:
        assert api.post("/api/v1/events", json=failed).status_code == 202

    # Retrying, not "waited to be sent": its first attempt may come after the banner does.
    wait_for(lambda: banner_shown(page, INCIDENTS, "retrying"), what="the stuck-page banner")
    banner = page.locator("#stuck-banner")
    expect(banner).to_contain_text("rbtk cannot page: 1 page has been retrying for over 2 s")
    expect(banner).to_contain_text(f"(oldest: pd-stuck, {KEY_STUCK}, ")
    expect(banner).to_contain_text("HTTP 500")
    expect(page.locator("#undelivered")).to_contain_text("Oldest undelivered page:")
    expect(page.locator("#undelivered")).to_contain_text(
        f"{KEY_STUCK} to pd-stuck (warning), retrying"
    )
    banner.get_by_role("link", name="See the delivery log.").click()
    expect(page.locator("#stuck-banner")).to_be_visible()  # on every settings page
    expect(page.locator("table").filter(has_text=KEY_STUCK).first).to_contain_text("Retrying")
    (told,) = wait_for(lambda: slack.posts, what="the health channel told")
    assert told["text"].startswith("rbtk cannot page: 1 page has been retrying for over 2 s")
    [button] = [e for b in told["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["text"]["text"], button["url"]) == (
        "Open the delivery log",
        f"{service.url}/settings/integrations/pagerduty/deliveries?connector=pd-stuck&status=retrying",
    )

    service.emulator.faults()  # PagerDuty is back
    wait_for(
        lambda: [e for e in service.emulator.events() if e["dedup_key"] == KEY_STUCK],
        what="the page delivered",
    )

    wait_for(lambda: not banner_shown(page, NOTIFICATIONS), what="the banner gone")
    page.goto(INCIDENTS)
    expect(page.locator("#undelivered")).to_have_text("Every page has been delivered.")
    wait_for(lambda: len(slack.posts) == 2, what="the recovery told")
    assert slack.posts[1]["text"].startswith("rbtk can page again")

"""The delivery log's channel filter: chat rows (Slack here) beside PagerDuty's, by name."""

import pytest
from playwright.sync_api import Page, expect

from tests.factories import KEY
from tests.waiting import wait_for
from tests.web.conftest import Service, add_connector
from tests.web.test_chat_channels import SlackWebhook, slack  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

LOG = "/settings/integrations/pagerduty/deliveries"


def test_a_slack_channel_named_like_a_connector_has_its_rows_under_the_channel_filter(
    signed_in: Page,
    service: Service,
    slack: SlackWebhook,  # noqa: F811
) -> None:
    page = signed_in
    add_connector(service, "pd-twin", KEY, is_default=False)
    with service.api() as api:
        added = api.post(
            "/api/v1/notify/channels",
            json={"name": "pd-twin", "kind": "slack", "webhook_url": slack.url},
        )
        assert added.status_code == 201, added.text
        assert api.post("/api/v1/notify/channels/pd-twin/test").status_code == 200
    wait_for(lambda: slack.posts, what="the test message posted to the Slack stand-in")

    page.goto(f"{LOG}?connector=pd-twin")
    expect(page.get_by_text("No deliveries match these filters.")).to_be_visible()

    page.get_by_label("Channel", exact=True).select_option(label="Slack")
    page.get_by_role("button", name="Filter").click()
    # The connector it still names is a PagerDuty filter: Slack rows are not narrowed by it.
    rows = page.locator("table.log tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("pd-twin Slack")
    expect(rows.locator(".badge")).to_have_text("Sent")
    expect(page.get_by_role("columnheader", name="Chat channel")).to_be_visible()

    page.get_by_label("Chat channel").select_option("pd-twin")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Channel", exact=True)).to_have_value("slack")

    page.goto(f"{LOG}?channel=pd-twin")  # a channel's name alone shows its chat rows
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Channel", exact=True)).to_have_value("chat")

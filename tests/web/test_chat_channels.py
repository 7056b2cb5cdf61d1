"""Integrations → Slack and email: channels (the webhook URL a secret) and their rules."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.waiting import wait_for
from tests.web.conftest import PHONE, Service

pytestmark = pytest.mark.e2e

NOTIFICATIONS = "/settings/integrations/notifications"
SECRET_PATH = "/services/T0001/B0001/s3cr3tWebhookToken"


class SlackWebhook:
    """A stand-in for Slack's incoming webhook on loopback: records what is posted."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{SECRET_PATH}"


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackWebhook]:
    webhook = SlackWebhook()
    thread = threading.Thread(target=webhook.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield webhook
    finally:
        webhook.server.shutdown()
        webhook.server.server_close()


def add_channel(page: Page, name: str, kind: str, destination: str) -> None:
    form = page.locator("form[data-channel-form]")
    form.get_by_label("Channel name").fill(name)
    form.get_by_label("Slack (incoming webhook)" if kind == "slack" else "Email (SMTP)").check()
    field = "Slack webhook URL" if kind == "slack" else "Email recipients"
    form.get_by_label(field).fill(destination)
    form.get_by_role("button", name="Add channel").click()


def test_a_slack_channel_is_added_tested_and_its_url_never_shown_again(
    signed_in: Page, slack: SlackWebhook
) -> None:
    page = signed_in
    page.goto(NOTIFICATIONS)
    expect(page.get_by_label("Email recipients")).to_be_hidden()  # only the chosen kind's field

    add_channel(page, "ops-slack", "slack", "hooks.slack.com/services/no-scheme")
    expect(page.get_by_role("alert")).to_contain_text("does not start with https://")
    expect(page.get_by_label("Slack webhook URL")).to_have_value("")
    expect(page.get_by_label("Channel name")).to_have_value("ops-slack")

    add_channel(page, "ops-slack", "slack", slack.url)
    expect(page.get_by_role("status").first).to_have_text(
        "Channel ops-slack added (slack: ••••••••…oken)."
    )
    assert SECRET_PATH not in page.content()
    row = page.locator("table.channels tbody tr").filter(has_text="ops-slack")
    expect(row).to_contain_text("Slack")

    row.get_by_role("button", name="Send a test message to ops-slack").click()
    expect(page.get_by_role("status").first).to_contain_text("Test message sent to ops-slack")
    (posted,) = wait_for(lambda: slack.posts)
    assert "test message" in posted["text"]


def test_an_email_channel_and_a_rule_naming_it(signed_in: Page, service: Service) -> None:
    page = signed_in
    page.goto(NOTIFICATIONS)
    add_channel(page, "release-mail", "email", "qa@example.com, release@example.com")
    row = page.locator("table.channels tbody tr").filter(has_text="release-mail")
    expect(row).to_contain_text("qa@example.com, release@example.com")

    form = page.locator("form.rule-form").last
    form.get_by_label("Event type").fill("release.*")
    form.get_by_label("release-mail", exact=True).check()
    form.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("status").first).to_have_text("Rule added.")
    rule = page.locator("table.rules tbody tr")
    expect(rule).to_contain_text("release.*")
    expect(rule).to_contain_text("release-mail")
    expect(row).to_contain_text("1")  # the rule naming it

    # A channel a rule names cannot go; once the rule is gone, it can.
    row.get_by_role("button", name="Remove channel release-mail").click()
    expect(page.get_by_role("alert")).to_contain_text("remove it from that rule first")
    page.get_by_role("button", name="Remove rule 1").click()
    expect(page.get_by_text("No rules yet.")).to_be_visible()
    page.locator("table.channels tbody tr").filter(has_text="release-mail").get_by_role(
        "button", name="Remove channel release-mail"
    ).click()
    expect(page.get_by_role("status").first).to_have_text("Channel release-mail removed.")
    with service.api() as api:
        names = [c["name"] for c in api.get("/api/v1/notify/channels").json()["channels"]]
    assert "release-mail" not in names


def test_on_a_phone_the_page_does_not_scroll_sideways(signed_in: Page, service: Service) -> None:
    with service.api() as api:
        recipients = ["release-managers@roboticks.example", "qa@roboticks.example"]
        body = {"name": "phone-mail", "kind": "email", "recipients": recipients}
        assert api.post("/api/v1/notify/channels", json=body).status_code == 201
    page = signed_in
    page.set_viewport_size(PHONE)

    page.goto(NOTIFICATIONS)
    expect(page.locator("table.channels")).to_contain_text("phone-mail")
    page.get_by_label("Slack (incoming webhook)").check()  # its hint names a long URL
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"


def test_a_webhook_channels_bad_url_is_shown_at_its_url_not_at_the_name(signed_in: Page) -> None:
    # The page once found the field by the message's first word: "url" was not one it knew,
    # so the Name field was marked.
    page = signed_in
    page.goto(NOTIFICATIONS)
    form = page.locator("form[data-channel-form]")
    form.get_by_label("Channel name").fill("ci-hook")
    form.get_by_label("Webhook (signed JSON POST)").check()
    # Labelled as a person writes it: "Webhook URL", not "Webhook uRL".
    form.get_by_label("Webhook URL", exact=True).fill("ftp://hooks.example.com/rbtk")
    form.locator("#webhook-signing_secret").fill("a-signing-secret-16")
    form.get_by_role("button", name="Add channel").click()

    url = page.locator("#webhook-url")
    expect(url).to_have_attribute("aria-invalid", "true")
    expect(url).to_have_value("ftp://hooks.example.com/rbtk")
    expect(page.locator("#url-error")).to_contain_text("URL: starts with 'ftp:', not https://")
    expect(page.get_by_label("Channel name")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#name-error")).to_have_count(0)

"""Integrations → PagerDuty: Add, a connector's page, rotate, delete, Send test event."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import KEY, OTHER_KEY
from tests.waiting import wait_for
from tests.web.conftest import Service, add_connector, readme_screenshot

pytestmark = pytest.mark.e2e

ADD = "/settings/integrations/pagerduty/add"


def connector_url(name: str) -> str:
    return f"/settings/integrations/pagerduty/connectors/{name}"


def key_check(page: Page, value: str) -> str:
    """Type a key, leave the field, and answer what the page says about it."""
    field = page.get_by_label("Integration Key", exact=True)
    field.fill(value)
    field.press("Tab")
    check = page.locator("#add-key-check")
    expect(check).not_to_be_empty()
    return check.inner_text()


def test_each_kind_of_key_mistake_gets_its_own_message_as_the_field_is_left(
    signed_in: Page,
) -> None:
    page = signed_in
    page.goto(ADD)
    assert "looks like a REST API key (20 characters)" in key_check(page, "y_NbAkKc66ryYTWUXYEu")
    assert key_check(page, "0123456789abcdef").startswith(
        "The integration key has 16 characters: expected exactly 32 letters and digits"
    )
    assert key_check(page, "0123456789abcdef0123456789abcde!").startswith(
        "The integration key has 32 characters, including 1 symbol character: expected"
    )
    assert key_check(page, f" {KEY} ") == "Looks like an Integration Key (••••••••…cdef)."
    assert key_check(page, KEY) == "Looks like an Integration Key (••••••••…cdef)."
    expect(page.get_by_label("Integration Key", exact=True)).not_to_have_attribute(
        "aria-invalid", "true"
    )


def test_a_saved_key_is_never_rendered_in_clear_nor_an_invalid_one_after_an_error(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-secret", KEY)
    for url in (
        "/settings/integrations/pagerduty",
        connector_url("pd-secret"),
        connector_url("pd-secret") + "/delete",
    ):
        page.goto(url)
        assert KEY not in page.content(), url
        assert "••••••••…cdef" in page.content(), url

    # A bad name and a key that is not valid either: both are said, the key never echoed.
    page.goto(ADD)
    page.get_by_label("Connector name").fill("PD Secret")
    page.get_by_label("Integration Key", exact=True).fill(OTHER_KEY[:31] + "!")
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_role("alert")).to_contain_text("'PD Secret' is not a lower-case slug")
    expect(page.locator("#add-key-check")).to_contain_text("1 symbol character")
    expect(page.get_by_label("Integration Key", exact=True)).to_have_value("")
    assert OTHER_KEY[:31] not in page.content()

    # A bad new key on the connector's page: refused with its message, not echoed.
    page.goto(connector_url("pd-secret"))
    page.get_by_label("New Integration Key").fill(OTHER_KEY[:31] + "é")
    page.get_by_role("button", name="Save new key").click()
    expect(page.locator("#new-key-check")).to_contain_text("1 non-ASCII character")
    assert OTHER_KEY[:31] not in page.content()


def test_a_form_error_elsewhere_keeps_a_valid_key_in_its_field(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-taken", KEY)
    page.goto(ADD)
    page.get_by_label("Connector name").fill("pd-taken")
    page.get_by_label("Integration Key", exact=True).fill(f" {OTHER_KEY} ")
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_role("alert")).to_contain_text("A connector named 'pd-taken' already")

    # The key need not be pasted again: only the name is fixed before sending once more.
    key = page.get_by_label("Integration Key", exact=True)
    expect(key).to_have_value(OTHER_KEY)
    # Kept, but never shown: a password field the browser does not offer to remember.
    expect(key).to_have_attribute("type", "password")
    expect(key).to_have_attribute("autocomplete", "off")
    expect(key).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#add-key-check")).to_have_text(
        "Kept: looks like an Integration Key (••••••••…3210)."
    )
    page.get_by_label("Connector name").fill("pd-fixed")
    page.get_by_role("button", name="Add connector").click()
    expect(page).to_have_url(re.compile(connector_url("pd-fixed") + "$"))
    expect(page.get_by_role("status").first).to_contain_text(
        "Connector pd-fixed added with key ••••••••…3210."
    )


def test_a_bad_name_is_refused_with_the_services_message(signed_in: Page) -> None:
    page = signed_in
    page.goto(ADD)
    page.get_by_label("Connector name").fill("PD Production")
    page.get_by_label("Integration Key", exact=True).fill(KEY)
    page.get_by_role("button", name="Add connector").click()
    expect(page.locator("#name-error")).to_contain_text("'PD Production' is not a lower-case slug")
    expect(page.get_by_label("Connector name")).to_have_attribute("aria-invalid", "true")


def test_rotating_the_key_sends_new_pages_with_the_new_key(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-rotate", KEY, is_default=False)
    page.goto(connector_url("pd-rotate"))
    page.get_by_label("New Integration Key").fill(OTHER_KEY)
    page.get_by_role("button", name="Save new key").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "New key ••••••••…3210 saved for pd-rotate."
    )
    expect(page.locator(".summary")).to_contain_text("••••••••…3210")

    page.get_by_role("button", name="Send test event").click()
    dedup_key = page.locator("#test-outcome code").inner_text()
    (sent,) = wait_for(
        lambda: [e for e in service.emulator.events() if e["dedup_key"] == dedup_key]
    )
    assert sent["routing_key"] == OTHER_KEY


def test_a_refused_test_event_shows_pagerdutys_message_inline(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-refused", KEY, is_default=False)
    page.goto(connector_url("pd-refused"))
    service.emulator.faults(reject_next=1)
    try:
        page.get_by_role("button", name="Send test event").click()
        outcome = page.locator("#test-outcome")
        expect(outcome).to_have_attribute("role", "alert")
        expect(outcome).to_contain_text(
            "Not sent. PagerDuty refused the test event (HTTP 400): Event object is invalid; "
            "check the connector's integration key"
        )
        expect(outcome).to_be_focused()
    finally:
        service.emulator.faults()
    page.get_by_role("link", name="See it in the delivery log").click()
    expect(page.locator("table.log tbody tr .badge")).to_have_text("Failed")


def test_the_urgency_table_follows_the_connectors_info_opt_in(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-urgency", KEY, is_default=False)
    page.goto(connector_url("pd-urgency"))
    table = page.get_by_role("region", name="Expected urgency per severity")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("critical")
    expect(rows.nth(0)).to_contain_text("High")
    expect(rows.nth(1)).to_contain_text("High")
    expect(rows.nth(2)).to_contain_text("Low")
    expect(rows.nth(3)).to_contain_text("not sent")

    page.get_by_label("Send info-severity events").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").first).to_have_text("Saved pd-urgency: info events sent.")
    expect(rows.nth(3)).to_contain_text("info")
    expect(rows.nth(3).locator(".urgency")).to_have_text("Low")


def test_release_change_events_can_be_switched_off_on_the_page(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-changes", KEY, is_default=False)
    page.goto(connector_url("pd-changes"))
    expect(page.get_by_label("Release change events")).to_be_checked()

    page.get_by_label("Release change events").uncheck()
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("status").first).to_have_text(
        "Saved pd-changes: release change events off."
    )
    expect(page.get_by_label("Release change events")).not_to_be_checked()
    with service.api() as api:
        connector = api.get("/api/v1/pagerduty/connectors/pd-changes").json()
    assert connector["change_events"] is False


def test_a_critical_test_event_and_resolve_it_now(signed_in: Page, service: Service) -> None:
    page = signed_in
    add_connector(service, "pd-oncall", KEY, is_default=False)
    page.goto(connector_url("pd-oncall"))

    page.get_by_label("Severity", exact=True).select_option("critical")
    page.get_by_role("button", name="Send test event").click()
    outcome = page.locator("#test-outcome")
    expect(outcome).to_contain_text("Sent. PagerDuty accepted the test event (HTTP 202")
    expect(outcome).to_contain_text(", critical")
    dedup_key = outcome.locator("code").inner_text()
    page.get_by_role("button", name="Resolve it now").click()

    expect(page.locator("#test-resolved")).to_contain_text(
        "Resolved. PagerDuty accepted the resolve"
    )
    received = wait_for(
        lambda: [e for e in service.emulator.events() if e["dedup_key"] == dedup_key],
        what="the test trigger and its resolve at the emulator",
    )
    assert [e["event_action"] for e in received] == ["trigger", "resolve"]
    assert received[0]["body"]["payload"]["severity"] == "critical"


def test_delete_asks_for_confirmation_first(signed_in: Page, service: Service) -> None:
    page = signed_in
    add_connector(service, "pd-delete", KEY, is_default=False)
    page.goto(connector_url("pd-delete"))
    page.get_by_role("link", name="Delete pd-delete…").click()
    expect(page.get_by_text("Delete the connector pd-delete")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="pd-delete")).to_be_visible()

    page.get_by_role("link", name="Delete pd-delete…").click()
    page.get_by_role("button", name="Delete pd-delete").click()
    expect(page.get_by_role("status").first).to_have_text("Deleted connector pd-delete.")
    expect(page.locator("table.connectors")).not_to_contain_text("pd-delete")
    page.goto(connector_url("pd-delete"))
    expect(page.get_by_role("alert")).to_have_text(
        "There is no connector named 'pd-delete'. It may have been deleted."
    )


def test_the_pages_work_from_the_keyboard_alone(page: Page, service: Service) -> None:
    add_connector(service, "pd-keyboard", KEY, is_default=False)
    page.goto("/settings/sign-in")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Admin token")).to_be_focused()
    page.keyboard.type(service.token)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto(connector_url("pd-keyboard"))
    amendments = page.get_by_label("Pinned standard amended")
    amendments.focus()
    page.keyboard.press("Space")
    expect(amendments).to_be_checked()
    page.keyboard.press("Enter")  # submits the form the checkbox is in
    expect(page.get_by_role("status").first).to_have_text(
        "Saved pd-keyboard: Pinned standard amended on."
    )


def test_every_form_control_has_a_label(signed_in: Page, service: Service) -> None:
    page = signed_in
    add_connector(service, "pd-labels", KEY, is_default=False)
    unlabelled = """() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter(e => e.type !== 'hidden')
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                     && !(e.tagName === 'BUTTON' && e.textContent.trim()))
        .map(e => e.outerHTML)"""
    for url in (
        "/settings/integrations",
        "/settings/integrations/pagerduty",
        ADD,
        connector_url("pd-labels"),
        connector_url("pd-labels") + "/delete",
        "/settings/integrations/pagerduty/deliveries",
    ):
        page.goto(url)
        assert page.evaluate(unlabelled) == [], url
        assert page.locator("h1").count() == 1, url
        assert page.locator("main").count() == 1, url


def test_the_pages_fit_a_phone_screen(signed_in: Page, service: Service) -> None:
    page = signed_in
    add_connector(service, "pd-phone", KEY, is_default=False)
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (
        "/settings/integrations/pagerduty",
        ADD,
        connector_url("pd-phone"),
        "/settings/integrations/pagerduty/deliveries",
    ):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (url, overflow)
    page.goto(connector_url("pd-phone"))
    readme_screenshot(page, "phone-connector", full_page=False)
    page.goto("/settings/integrations/pagerduty")


def test_adding_a_key_another_connector_uses_warns_and_a_second_default_is_not_preset(
    signed_in: Page, service: Service
) -> None:
    add_connector(service, "pd-first", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    page = signed_in
    page.goto(ADD)
    expect(page.get_by_label("Default connector")).not_to_be_checked()  # pd-first is one

    page.get_by_label("Connector name").fill("pd-again")
    page.get_by_label("Integration Key", exact=True).fill(" aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n")
    page.get_by_role("button", name="Add connector").click()

    expect(page.get_by_role("status").first).to_contain_text("Connector pd-again added")
    expect(page.locator(".flash-warning")).to_contain_text(
        "pd-first already uses this Integration Key: both page the same PagerDuty service"
    )


def test_a_storm_window_out_of_range_is_shown_at_its_field_on_the_connectors_page(
    signed_in: Page, service: Service
) -> None:
    # The page once said it only above the form: it could not tell which field it was about.
    page = signed_in
    add_connector(service, "pd-storm", KEY, is_default=False)
    page.goto(connector_url("pd-storm"))
    window = page.get_by_label("new incidents within")
    window.evaluate("e => { e.form.noValidate = true }")  # as a browser without the check
    window.fill("5")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("alert").first).to_contain_text(
        "Storm window: must be 10 to 3,600 seconds, got 5."
    )
    expect(window).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#storm_window_s-error")).to_have_text(
        "Storm window: must be 10 to 3,600 seconds, got 5."
    )
    expect(page.get_by_label("More than")).not_to_have_attribute("aria-invalid", "true")

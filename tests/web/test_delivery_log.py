"""Integrations → PagerDuty → Delivery log: filters, linked rows, status words, refresh."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.factories import KEY, OTHER_KEY, event, evidence, pool_offline, pool_online
from tests.waiting import wait_for
from tests.web.conftest import PHONE, Service, add_connector

pytestmark = pytest.mark.e2e

LOG = "/settings/integrations/pagerduty/deliveries"
POOL_KEY = "rbtk:pool-offline:warehouse:onprem-airgapped"
SEPARATORS = ":-/."

# The text of an element as the lines it is laid out in.
LINES = """element => {
  const lines = [""];
  let top = null;
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getBoundingClientRect();
      if (rect.width === 0) continue;
      if (top !== null && rect.top > top + 1) lines.push("");
      top = rect.top;
      lines[lines.length - 1] += node.data[i];
    }
  }
  return lines;
}"""

# What each of an SVG's or a page's labels measures on screen, scaling included.
RENDERED_FONT_PX = """labels => labels.map(label =>
  parseFloat(getComputedStyle(label).fontSize) * (label.getScreenCTM?.()?.a ?? 1))"""


def send_events(service: Service, *events: dict[str, Any]) -> None:
    with service.api() as api:
        response = api.post("/api/v1/events", json={"events": list(events)})
    assert response.status_code < 300, response.text


def sent(service: Service, connector: str) -> list[dict[str, Any]]:
    with service.api() as api:
        response = api.get(
            "/api/v1/pagerduty/deliveries", params={"connector": connector, "status": "sent"}
        )
    rows: list[dict[str, Any]] = response.json()["deliveries"]
    return rows


def sent_count(service: Service, connector: str) -> int:
    with service.api() as api:
        response = api.get(
            "/api/v1/pagerduty/deliveries", params={"connector": connector, "status": "sent"}
        )
    return int(response.json()["total"])


def test_a_trigger_and_its_resolve_are_linked_and_filterable(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-log", KEY)
    now = datetime.now(UTC)
    send_events(service, pool_offline("log-off", now - timedelta(minutes=20)))
    # Once the trigger is sent: a resolve that came first would cancel it unsent.
    wait_for(lambda: len(sent(service, "pd-log")) == 1, what="trigger sent")
    send_events(service, pool_online("log-on", now))
    wait_for(lambda: len(sent(service, "pd-log")) == 2, what="trigger and resolve sent")

    page.goto(f"{LOG}?connector=pd-log")
    rows = page.locator("table.log tbody tr")
    expect(rows).to_have_count(2)
    resolve, trigger = rows.nth(0), rows.nth(1)
    expect(resolve).to_contain_text("Resolve")
    expect(trigger).to_contain_text("Trigger")
    trigger_id = trigger.get_attribute("id")
    resolve_id = resolve.get_attribute("id")
    assert trigger_id and resolve_id
    for row in (resolve, trigger):
        expect(row).to_contain_text(POOL_KEY)
        expect(row.locator(".badge")).to_have_text("Sent")
        expect(row).to_contain_text("202")
        expect(row).to_contain_text("Event processed")
    expect(
        resolve.get_by_role("link", name=f"Resolves trigger #{trigger_id[2:]}")
    ).to_have_attribute("href", f"#{trigger_id}")
    trigger.get_by_role("link", name=f"Resolved by #{resolve_id[2:]}").click()
    expect(page).to_have_url(f"{service.url}{LOG}?connector=pd-log#{resolve_id}")

    # The key links to every delivery for it; the status filter narrows by word.
    resolve.get_by_role("link", name=POOL_KEY).click()
    expect(page.get_by_label("Dedup key")).to_have_value(POOL_KEY)
    expect(rows).to_have_count(2)
    page.get_by_label("Status").select_option(label="Failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No deliveries match these filters.")).to_be_visible()
    page.get_by_label("Status").select_option(label="Sent")
    page.get_by_label("Time").select_option(label="Last 15 minutes")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)


def test_a_failure_shows_its_status_in_words_and_pagerdutys_message(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-log-fail", OTHER_KEY, is_default=False)
    service.emulator.faults(reject_next=1)
    try:
        with service.api() as api:
            api.post("/api/v1/pagerduty/connectors/pd-log-fail/test")
    finally:
        service.emulator.faults()
    page.goto(f"{LOG}?connector=pd-log-fail&status=failed")
    row = page.locator("table.log tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("Failed")
    expect(row.locator(".badge")).to_have_class("badge status-failed")
    expect(row).to_contain_text("400")
    expect(row).to_contain_text("Event object is invalid")


def test_the_log_refreshes_itself_while_open(signed_in: Page, service: Service) -> None:
    page = signed_in
    add_connector(service, "pd-live", KEY, is_default=False)
    page.clock.install()
    page.goto(f"{LOG}?connector=pd-live")
    expect(page.get_by_text("No deliveries match these filters.")).to_be_visible()

    with service.api() as api:
        dedup_key = api.post("/api/v1/pagerduty/connectors/pd-live/test").json()["dedup_key"]
    page.clock.run_for(6_000)
    row = page.locator("table.log tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(dedup_key)
    assert page.url.endswith("?connector=pd-live")  # refreshed in place, not reloaded

    # Paused, it stays as it is.
    page.get_by_role("button", name="Auto-refresh every 5 s: on").click()
    expect(page.get_by_role("button", name="Auto-refresh every 5 s: off")).to_have_attribute(
        "aria-pressed", "false"
    )
    with service.api() as api:
        api.post("/api/v1/pagerduty/connectors/pd-live/test")
    page.clock.run_for(12_000)
    expect(row).to_have_count(1)


def test_a_row_still_to_be_sent_says_what_it_waits_for(signed_in: Page, service: Service) -> None:
    page = signed_in
    add_connector(service, "pd-wait", OTHER_KEY)
    with service.api() as api:
        answer = api.post(
            "/api/v1/pagerduty/connectors/pd-wait/test", json={"resolve_after_s": 600}
        )
    assert answer.status_code == 200, answer.text

    page.goto(f"{LOG}?connector=pd-wait")

    resolve = page.locator("table.log tbody tr").nth(0)
    expect(resolve).to_contain_text("Resolve")
    expect(resolve.locator(".waiting")).to_contain_text("waiting: scheduled, can go at")


def test_filters_by_project_action_and_key_prefix_and_pages_both_ways(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-pages", OTHER_KEY, is_default=False)
    with service.api() as api:
        for _ in range(3):  # a test trigger and its resolve each: six rows
            answer = api.post(
                "/api/v1/pagerduty/connectors/pd-pages/test", json={"resolve_after_s": 0.1}
            )
            assert answer.status_code == 200, answer.text
    wait_for(lambda: sent_count(service, "pd-pages") == 6, what="six test rows sent")

    page.goto(f"{LOG}?connector=pd-pages")
    # The last day's chart counts every PagerDuty row of the hour, these six among them.
    chart = page.get_by_role("img", name="Last 24 hours, per hour")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar-trigger").last.locator("title")).to_contain_text(" triggers")
    expect(page.locator("figure.activity figcaption")).to_contain_text("resolves")
    page.get_by_label("Action").select_option(label="Resolves")
    page.get_by_label("Dedup key").fill("rbtk:test:*")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.log tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("[data-total]")).to_have_text("3")
    for n in range(3):
        expect(rows.nth(n)).to_contain_text("Resolve")
        expect(rows.nth(n).locator(".sent-at")).to_contain_text("sent ")

    page.get_by_label("Project").fill("no-such-project")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No deliveries match these filters.")).to_be_visible()


def test_older_and_newer_pages(signed_in: Page, service: Service) -> None:
    page = signed_in
    add_connector(service, "pd-many", OTHER_KEY, is_default=False)
    with service.api() as api:
        for _ in range(51):  # 102 rows: a page of 100 and one of 2
            api.post("/api/v1/pagerduty/connectors/pd-many/test", json={"resolve_after_s": 0.1})
    wait_for(lambda: sent_count(service, "pd-many") == 102, what="the rows sent", timeout_s=60)

    page.goto(f"{LOG}?connector=pd-many")
    rows = page.locator("table.log tbody tr")
    expect(rows).to_have_count(100)
    expect(page.locator("[data-total]")).to_have_text("102")
    newest = rows.first.get_attribute("id")
    page.get_by_role("link", name="Older deliveries").click()
    expect(rows).to_have_count(2)
    page.get_by_role("link", name="Newer deliveries").click()
    expect(rows).to_have_count(100)
    expect(rows.first).to_have_attribute("id", str(newest))
    expect(page.get_by_role("link", name="Newer deliveries")).to_have_count(0)


def test_the_log_warns_when_it_cannot_reach_rbtk_and_fits_1280_px(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 900})
    add_connector(service, "pd-far", OTHER_KEY)  # a default: the long key reaches it
    long_tag = "v1.4.0-rc.1+build.20261201.nav.lidar.calibration.0123456789abcdef0123456789"
    with service.api() as api:
        api.post("/api/v1/pagerduty/connectors/pd-far/test", json={})
        failed = evidence("wide-evidence", datetime.now(UTC), long_tag, project="plant-east-2")
        assert api.post("/api/v1/events", json=failed).status_code == 202
    page.clock.install()
    page.goto(LOG)  # every connector's rows, the long key among them
    expect(page.locator("table.log")).to_contain_text(long_tag[:20])
    expect(page.locator("table.log tbody tr").first).to_be_visible()
    region = page.get_by_role("region", name="Deliveries, newest first")
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), "the table scrolls sideways"
    warning = page.locator("[data-unreachable]")
    expect(warning).to_be_hidden()

    page.route("**/deliveries*", lambda route: route.abort())
    page.clock.run_for(6_000)
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Cannot reach rbtk since")

    page.unroute("**/deliveries*")
    page.clock.run_for(6_000)
    expect(warning).to_be_hidden()


def test_at_1280_and_1440_px_the_log_fits_and_keys_break_only_after_separators(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    add_connector(service, "pd-wide", KEY)  # a default: the events reach it
    test_id = "nav/test_lidar.py::test_scan"
    run = {"branch": "main", "default_branch": True, "pull_request": None}
    now = datetime.now(UTC)
    minutes = [now - timedelta(minutes=n) for n in range(4)]
    send_events(
        service,
        event("wide-release", "release.published", minutes[3], "wide", tag="v1.4.0",
              branch="main"),
        evidence("wide-evidence-failed", minutes[2], "v1.4.0", project="wide"),
        event("wide-run-failed", "test_run.completed", minutes[1], "wide", **run, run_id=1,
              status="failed", tests=[{"id": test_id, "status": "failed"}]),
    )  # fmt: skip
    # Once the triggers are sent: a resolve that came first would cancel them unsent.
    wait_for(lambda: len(sent(service, "pd-wide")) == 3, what="the release and triggers sent")
    send_events(
        service,
        evidence("wide-evidence-generated", now, "v1.4.0", failed=False, project="wide"),
        event("wide-run-passed", "test_run.completed", now, "wide", **run, run_id=2,
              status="passed", tests=[{"id": test_id, "status": "passed"}]),
    )  # fmt: skip
    wait_for(lambda: len(sent(service, "pd-wide")) == 5, what="resolves sent")

    page.goto(f"{LOG}?connector=pd-wide")
    expect(page.locator("table.log")).to_contain_text(test_id)
    region = page.get_by_role("region", name="Deliveries, newest first")
    keys = page.locator("table.log a.key-link")
    for width in (1280, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), f"clipped at {width} px"
        for lines in keys.evaluate_all(f"links => links.map({LINES})"):
            assert all(line[-1] in SEPARATORS for line in lines[:-1]), (width, lines)


def test_on_a_phone_the_log_shows_rows_first_under_folded_filters_and_a_readable_chart(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    page.set_viewport_size(PHONE)
    add_connector(service, "pd-phone", OTHER_KEY, is_default=False)
    with service.api() as api:
        assert api.post("/api/v1/pagerduty/connectors/pd-phone/test").status_code == 200

    page.goto(LOG)
    expect(page.locator("table.log tbody tr").first).to_be_in_viewport()
    status = page.get_by_label("Status")
    expect(status).to_be_hidden()
    ticks = page.locator("figure.activity .tick")
    expect(ticks.first).to_be_visible()
    assert min(ticks.evaluate_all(RENDERED_FONT_PX)) >= 10, "the chart's labels are unreadable"

    page.get_by_text("Filters", exact=True).click()
    expect(status).to_be_visible()
    page.goto(f"{LOG}?status=sent")  # a filter set: its value in sight
    expect(status).to_have_value("sent")
    expect(status).to_be_visible()

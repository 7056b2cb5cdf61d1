"""Integrations → PagerDuty → Routing: ordered rules, defaults, and "which connector gets this?"."""

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.factories import KEY, OTHER_KEY
from tests.web.conftest import Service, add_connector

pytestmark = pytest.mark.e2e

ROUTING = "/settings/integrations/pagerduty/routing"


@pytest.fixture(scope="module", autouse=True)
def connectors(service: Service) -> None:
    add_connector(service, "pd-production", KEY)
    add_connector(service, "pd-staging", OTHER_KEY, is_default=False)


def add_rule(page: Page, project: str = "", event_type: str = "", *names: str) -> None:
    form = page.locator("form.rule-form").last
    form.get_by_label("Project").fill(project)
    form.get_by_label("Event type").fill(event_type)
    for name in names:
        form.get_by_label(name, exact=True).check()
    form.get_by_role("button", name="Add rule").click()


def rules(page: Page) -> Locator:
    return page.locator("table.rules tbody tr")


def set_rules(service: Service, *rules: dict[str, object]) -> None:
    with service.api() as api:
        response = api.put("/api/v1/pagerduty/routing", json={"rules": list(rules)})
    assert response.status_code == 200, response.text


def test_rules_are_added_edited_reordered_and_removed(signed_in: Page, service: Service) -> None:
    page = signed_in
    set_rules(service)
    page.goto(ROUTING)
    expect(page.get_by_text("No rules yet.")).to_be_visible()
    add_rule(page, "warehouse-staging", "", "pd-staging")
    add_rule(page, "", "standard.*", "pd-production", "pd-staging")
    expect(rules(page)).to_have_count(2)
    expect(rules(page).nth(0)).to_contain_text("warehouse-staging")
    expect(rules(page).nth(1)).to_contain_text("standard.*")
    expect(rules(page).nth(1)).to_contain_text("pd-production, pd-staging")

    page.get_by_role("button", name="Move rule 2 up").click()
    expect(page.get_by_role("status").first).to_have_text("Rule 2 moved to position 1.")
    expect(rules(page).nth(0)).to_contain_text("standard.*")

    page.get_by_role("link", name="Edit rule 2").click()
    edit = page.get_by_role("form", name="Edit rule 2")
    expect(edit.get_by_label("Project")).to_have_value("warehouse-staging")
    edit.get_by_label("Project").fill("warehouse-*")
    edit.get_by_role("button", name="Save rule 2").click()
    expect(page.get_by_role("status").first).to_have_text("Rule 2 saved.")
    expect(rules(page).nth(1)).to_contain_text("warehouse-*")

    page.get_by_role("button", name="Remove rule 1").click()
    expect(rules(page)).to_have_count(1)
    expect(rules(page)).to_contain_text("warehouse-*")
    with service.api() as api:
        assert api.get("/api/v1/pagerduty/routing").json()["rules"] == [
            {
                "position": 1,
                "project": "warehouse-*",
                "event_type": None,
                "connectors": ["pd-staging"],
            }
        ]


def test_a_bad_rule_is_refused_with_every_problem_and_nothing_changes(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    set_rules(service, {"position": 1, "project": "warehouse", "connectors": ["pd-staging"]})
    page.goto(ROUTING)
    add_rule(page, "", "")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was changed")
    expect(alert).to_contain_text("Position 2: matches every event; give a project or an event")
    expect(alert).to_contain_text("Position 2: names no connector; give at least one.")
    expect(rules(page)).to_have_count(1)

    # What was typed stays in the form, to be fixed rather than typed again.
    add_rule(page, "", "runner_pool.*")
    expect(page.locator("form.rule-form").last.get_by_label("Event type")).to_have_value(
        "runner_pool.*"
    )


def test_a_misspelt_event_type_is_refused_with_the_type_it_looks_like(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    set_rules(service)
    page.goto(ROUTING)

    add_rule(page, "", "runner_pool.ofline", "pd-staging")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("event_type 'runner_pool.ofline' is not a known event type")
    expect(alert).to_contain_text("did you mean 'runner_pool.offline'?")
    expect(page.get_by_text("No rules yet.")).to_be_visible()
    expect(page.locator("form.rule-form").last.get_by_label("Event type")).to_have_value(
        "runner_pool.ofline"
    )


def test_the_default_connectors_are_chosen_here(signed_in: Page, service: Service) -> None:
    page = signed_in
    page.goto(ROUTING)
    defaults = page.locator("#defaults")
    expect(defaults).to_contain_text("Now: pd-production.")
    defaults.get_by_label("pd-staging").check()
    defaults.get_by_role("button", name="Save default connectors").click()
    expect(page.get_by_role("status").first).to_have_text(
        "Default connectors saved: pd-production, pd-staging."
    )
    expect(defaults).to_contain_text("Now: pd-production, pd-staging.")
    defaults.get_by_label("pd-staging").uncheck()
    defaults.get_by_role("button", name="Save default connectors").click()
    expect(defaults).to_contain_text("Now: pd-production.")


def test_which_connector_gets_this_explains_the_decision(signed_in: Page, service: Service) -> None:
    page = signed_in
    set_rules(service, {"position": 1, "project": "warehouse", "connectors": ["pd-staging"]})
    page.goto(ROUTING)
    box = page.locator("#explain")
    box.get_by_label("Project").fill("lab")
    box.get_by_label("Event type").fill("test_run.completed")
    box.get_by_role("button", name="Show where it goes").click()
    explanation = page.locator("#explanation")
    expect(explanation).to_contain_text(
        "No rule matches project 'lab' and event type 'test_run.completed': it goes to the "
        "default connectors."
    )
    # The policy itself answers: a failed run pages only after a release on its branch.
    expect(explanation).to_contain_text(
        "pd-production, post_release_regression: not sent: no release on main yet"
    )

    box.get_by_label("Project").fill("warehouse")
    box.get_by_label("Event type").fill("release.published")
    box.get_by_role("button", name="Show where it goes").click()
    expect(explanation).to_contain_text("Rule 1 (project 'warehouse', event type any)")
    expect(explanation).to_contain_text("Connectors: pd-staging")
    expect(explanation).to_contain_text("This event type never pages by itself")


def test_which_connector_gets_this_says_a_misspelt_event_type_pages_nobody(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    page.goto(ROUTING)
    box = page.locator("#explain")
    box.get_by_label("Project").fill("warehouse")
    box.get_by_label("Event type").fill("runner_pool.ofline")
    box.get_by_role("button", name="Show where it goes").click()

    expect(page.locator("#explanation")).to_contain_text(
        "Unknown event type runner_pool.ofline: no rule pages it; did you mean runner_pool.offline?"
    )


def test_a_rules_runbook_is_set_refused_when_not_a_url_and_removed_on_the_page(
    signed_in: Page, service: Service
) -> None:
    page = signed_in
    runbook = "https://wiki.roboticks.test/runbooks/pool-offline"
    page.goto(ROUTING)
    field = page.get_by_label("Runbook: Any pool offline")

    field.fill("wiki/runbooks/pool-offline")
    page.get_by_role("button", name="Save the runbook of Any pool offline").click()
    expect(page.locator("#runbook-pool_offline-error")).to_contain_text("is not an http(s) address")
    expect(field).to_have_value("wiki/runbooks/pool-offline")

    field.fill(runbook)
    page.get_by_role("button", name="Save the runbook of Any pool offline").click()
    expect(page.get_by_role("status").first).to_have_text(
        f"Runbook of pool_offline saved: its new incidents link to {runbook}."
    )
    expect(field).to_have_value(runbook)
    with service.api() as api:
        assert api.get("/api/v1/runbooks").json()["runbooks"][2]["url"] == runbook
        newest = api.get("/api/v1/audit", params={"action": "runbook"}).json()["entries"][0]
    assert (newest["actor"], newest["target"], newest["after"]) == (
        "web",
        "pool_offline",
        {"url": runbook},
    )

    page.get_by_role("button", name="Remove the runbook of Any pool offline").click()
    expect(page.get_by_role("status").first).to_have_text("Runbook of pool_offline removed.")
    expect(field).to_have_value("")
    with service.api() as api:
        assert api.get("/api/v1/runbooks").json()["runbooks"][2]["url"] is None

"""Who may use the settings pages: sign-in, sign-out, the session cookie and CSRF."""

import re
from urllib.parse import quote

import pytest
from playwright._impl._api_structures import SetCookieParam
from playwright.sync_api import Cookie, Page, expect

from tests.e2e.processes import rbtk
from tests.factories import KEY
from tests.web.conftest import Service, add_connector, sign_in

pytestmark = pytest.mark.e2e

SETTINGS_URLS = [
    "/settings",
    "/settings/integrations",
    "/settings/integrations/pagerduty",
    "/settings/integrations/pagerduty/add",
    "/settings/integrations/pagerduty/connectors/pd-access",
    "/settings/integrations/pagerduty/connectors/pd-access/delete",
    "/settings/integrations/pagerduty/deliveries?status=sent",
    "/settings/integrations/pagerduty/incidents",
    "/settings/integrations/pagerduty/events",
    "/settings/integrations/pagerduty/events/some-event",
    "/settings/integrations/pagerduty/storms",
    "/settings/integrations/pagerduty/routing",
    "/settings/integrations/pagerduty/suppressions",
    "/settings/integrations/notifications",
]

SETTINGS_FORMS = [
    "/settings/integrations/pagerduty/add",
    "/settings/integrations/pagerduty/validate-key",
    "/settings/integrations/pagerduty/connectors/pd-access",
    "/settings/integrations/pagerduty/connectors/pd-access/key",
    "/settings/integrations/pagerduty/connectors/pd-access/test",
    "/settings/integrations/pagerduty/connectors/pd-access/delete",
]


def test_without_a_session_every_settings_url_redirects_to_sign_in(
    page: Page, service: Service
) -> None:
    add_connector(service, "pd-access", KEY)
    for url in SETTINGS_URLS:
        page.goto(url)
        expect(page).to_have_url(re.compile(re.escape("/settings/sign-in?next=")))
        expect(page.get_by_role("heading", name="Sign in to rbtk settings")).to_be_visible()
        if url != "/settings":
            assert page.url.endswith(f"?next={quote(url, safe='')}"), (url, page.url)
    for url in SETTINGS_FORMS:
        response = page.request.post(url, form={"name": "x"}, max_redirects=0)
        assert response.status == 303, url
        assert response.headers["location"].startswith("/settings/sign-in"), url
    with service.api() as api:
        assert api.get("/api/v1/pagerduty/connectors/pd-access").status_code == 200


def test_the_root_leads_to_the_settings(page: Page, service: Service) -> None:
    page.goto("/")

    expect(page.get_by_role("heading", name="Sign in to rbtk settings")).to_be_visible()
    page.get_by_label("Admin token").fill(service.token)
    page.get_by_label("Admin token").press("Enter")
    expect(page.get_by_role("link", name="PagerDuty", exact=True).first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/settings/integrations/pagerduty$"))


def test_every_page_has_an_icon_and_favicon_ico_is_one(page: Page) -> None:
    page.goto("/settings/sign-in")
    icons = page.locator('link[rel="icon"]')
    expect(icons).not_to_have_count(0)
    for url in [*icons.evaluate_all("links => links.map(l => l.href)"), "/favicon.ico"]:
        answer = page.request.get(url)
        assert answer.status == 200, url
        assert answer.headers["content-type"].startswith("image/"), url


def test_signing_in_returns_to_the_page_asked_for(page: Page, service: Service) -> None:
    page.goto("/settings/integrations/pagerduty/deliveries?status=failed")
    page.get_by_label("Admin token").fill(service.token)
    page.get_by_label("Admin token").press("Enter")
    expect(page).to_have_url(
        re.compile(r"/settings/integrations/pagerduty/deliveries\?status=failed$")
    )
    expect(page.get_by_label("Status")).to_have_value("failed")


def test_sign_in_refuses_a_wrong_token_and_an_events_token_with_a_message(
    page: Page, service: Service
) -> None:
    page.goto("/settings/sign-in")
    page.get_by_label("Admin token").fill("rbtk_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This token is not valid or was revoked. Sign in with an admin token "
        "(create one with: rbtk tokens create --scope admin)."
    )
    expect(page.get_by_label("Admin token")).to_have_value("")

    page.get_by_label("Admin token").fill(service.create_token("events"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("This token may only post events.")
    page.goto("/settings/integrations/pagerduty")
    expect(page).to_have_url(re.compile(re.escape("/settings/sign-in?next=")))


def to_set(cookie: Cookie, *, value: str | None = None) -> SetCookieParam:
    """A cookie read from the browser as `add_cookies` takes it back, its value replaced if
    `value` is given."""
    return {
        "name": cookie["name"],
        "value": cookie["value"] if value is None else value,
        "domain": cookie["domain"],
        "path": cookie["path"],
        "expires": cookie["expires"],
        "httpOnly": cookie["httpOnly"],
        "secure": cookie["secure"],
        "sameSite": cookie["sameSite"],
    }


def test_the_session_cookie_is_signed_http_only_and_same_site(page: Page, service: Service) -> None:
    sign_in(page, service.token)
    (cookie,) = page.context.cookies()
    assert cookie["name"] == "rbtk_session"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert service.token not in cookie["value"]
    assert page.evaluate("document.cookie") == ""

    # A cookie altered by hand is not a session.
    page.context.add_cookies([to_set(cookie, value="x" + cookie["value"][1:])])
    page.goto("/settings/integrations/pagerduty")
    expect(page).to_have_url(re.compile(re.escape("/settings/sign-in?next=")))


def test_a_form_posted_without_its_csrf_token_is_refused(page: Page, service: Service) -> None:
    sign_in(page, service.token)
    page.goto("/settings/integrations/pagerduty/add")
    page.get_by_label("Connector name").fill("pd-forged")
    page.get_by_label("Integration Key", exact=True).fill(KEY)
    page.locator('form[action$="/add"] input[name="csrf_token"]').evaluate("e => e.remove()")
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("nothing was changed")

    # Nor does a token from another session, or a JSON check without the header.
    forged = page.request.post(
        "/settings/integrations/pagerduty/add",
        form={"name": "pd-forged", "integration_key": KEY, "csrf_token": "from-elsewhere"},
    )
    assert forged.status == 403
    unchecked = page.request.post(
        "/settings/integrations/pagerduty/validate-key", data={"integration_key": KEY}
    )
    assert unchecked.status == 403
    with service.api() as api:
        assert api.get("/api/v1/pagerduty/connectors/pd-forged").status_code == 404


def test_signing_out_closes_the_pages_and_revoking_the_token_closes_its_sessions(
    page: Page, service: Service
) -> None:
    sign_in(page, service.token)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/settings/integrations/pagerduty/add")
    expect(page).to_have_url(re.compile(re.escape("/settings/sign-in?next=")))

    token = service.create_token("admin")
    sign_in(page, token)
    listed = rbtk("tokens", "list", env=service.env)
    token_id = listed.stdout.strip().splitlines()[-1].split("\t")[0]
    assert rbtk("tokens", "revoke", token_id, env=service.env).returncode == 0
    page.goto("/settings/integrations/pagerduty")
    expect(page).to_have_url(re.compile(re.escape("/settings/sign-in?next=")))


def test_a_session_cookie_copied_before_signing_out_no_longer_works_after_it(
    page: Page, service: Service
) -> None:
    sign_in(page, service.token)
    (copied,) = page.context.cookies()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.context.add_cookies([to_set(copied)])  # as if someone had kept a copy of it
    page.goto("/settings/integrations/pagerduty")

    expect(page).to_have_url(re.compile(re.escape("/settings/sign-in?next=")))
    forged = page.request.post(
        "/settings/integrations/pagerduty/add",
        form={"name": "pd-after-sign-out", "integration_key": KEY},
        max_redirects=0,
    )
    assert forged.status == 303
    assert forged.headers["location"].startswith("/settings/sign-in")


def test_revoking_a_token_ends_every_session_opened_with_it_at_once(
    page: Page, service: Service
) -> None:
    token = service.create_token("admin")
    sign_in(page, token)
    other = page.context.browser
    assert other is not None
    second = other.new_context(base_url=service.url).new_page()
    sign_in(second, token)

    listed = rbtk("tokens", "list", env=service.env)
    token_id = listed.stdout.strip().splitlines()[-1].split("\t")[0]
    assert rbtk("tokens", "revoke", token_id, env=service.env).returncode == 0

    for each in (page, second):
        each.goto("/settings/integrations/pagerduty")
        expect(each).to_have_url(re.compile(re.escape("/settings/sign-in?next=")))
    second.context.close()

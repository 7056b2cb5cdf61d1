"""The one outbound HTTP seam: webhooks reach public addresses only, checked as they connect."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, RedirectResponse

from rbtk.delivery import http
from tests.live import serving
from tests.receivers import Webhook, webhook_receiver

REFUSED = (
    "webhooks may only reach public addresses "
    "(set RBTK_ALLOW_PRIVATE_WEBHOOKS=1 to allow internal addresses)"
)


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook_receiver() as hook:
        yield hook


async def test_a_loopback_address_is_refused_before_anything_is_sent(hook: Webhook) -> None:
    async with http.new_session(concurrency=4, timeout_s=5) as session:
        with pytest.raises(http.BlockedDestination) as raised:
            await http.post_json(session, hook.url, b"{}")

    assert str(raised.value) == f"refused to connect: 127.0.0.1 is a loopback address; {REFUSED}"
    assert hook.received == []


async def test_a_name_is_judged_by_the_address_it_resolves_to_when_sending(
    hook: Webhook,
) -> None:
    url = hook.url.replace("127.0.0.1", "localhost")

    async with http.new_session(concurrency=4, timeout_s=5) as session:
        with pytest.raises(http.BlockedDestination) as raised:
            await http.post_json(session, url, b"{}")

    assert str(raised.value) == (
        f"refused to connect: localhost resolves to 127.0.0.1, a loopback address; {REFUSED}"
    )
    assert hook.received == []


async def test_an_ipv4_mapped_ipv6_literal_is_refused_as_the_ipv4_address(hook: Webhook) -> None:
    url = hook.url.replace("127.0.0.1", "[::ffff:127.0.0.1]")

    async with http.new_session(concurrency=4, timeout_s=5) as session:
        with pytest.raises(http.BlockedDestination) as raised:
            await http.post_json(session, url, b"{}")

    assert str(raised.value) == (
        f"refused to connect: ::ffff:7f00:1 is a loopback address; {REFUSED}"
    )


async def test_the_configured_pagerduty_endpoint_may_be_on_loopback(hook: Webhook) -> None:
    async with http.new_session(concurrency=4, timeout_s=5, trusted=[hook.url]) as session:
        response = await http.post_json(session, hook.url, b'{"text": "page"}')

    assert (response.status, response.body) == (200, b"ok")
    assert hook.received == [{"text": "page"}]


async def test_with_private_webhooks_allowed_a_loopback_receiver_is_reached(hook: Webhook) -> None:
    async with http.new_session(concurrency=4, timeout_s=5, allow_private=True) as session:
        response = await http.post_json(session, hook.url, b'{"text": "hi"}')

    assert response.status == 200
    assert hook.received == [{"text": "hi"}]


async def test_a_redirect_is_answered_as_it_is_never_followed() -> None:
    followed: list[str] = []
    app = FastAPI()

    @app.post("/hook")
    async def moved() -> RedirectResponse:
        return RedirectResponse("/internal", status_code=307)

    @app.post("/internal")
    async def internal() -> PlainTextResponse:
        followed.append("internal")
        return PlainTextResponse("db_password=hunter2")

    with serving(app, lifespan="off") as url:
        async with http.new_session(concurrency=4, timeout_s=5, allow_private=True) as session:
            response = await http.post_json(session, f"{url}/hook", b"{}")

    assert response.status == 307
    assert followed == []

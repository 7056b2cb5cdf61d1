"""The emulator's webhook subscriptions and deliveries, as PagerDuty documents them: signed,
in order, retried on 5xx, 429 and timeouts, dropped on other 4xx, disabled after 3 drops."""

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rbtk.emulator import EmulatorConfig
from rbtk.emulator.webhooks import DeliveryRules
from tests.emulator.builders import TOKEN, trigger
from tests.emulator.conftest import StartEmulator
from tests.live import serving
from tests.waiting import wait_for

FAST = DeliveryRules(timeout_s=1.0, retry_first_s=0.01, retry_max_s=0.05, retry_for_s=30.0)
AUTH = {"Authorization": f"Token token={TOKEN}"}
INCIDENT_EVENTS = ["incident.triggered", "incident.acknowledged", "incident.resolved"]


@dataclass
class Receiver:
    url: str = ""
    answers: list[int] = field(default_factory=list)  # answered in turn; then 202
    slow_s: list[float] = field(default_factory=list)  # how long it takes to answer, in turn
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)  # 2xx only
    tried: int = 0

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body)["event"] for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def receive(request: Request) -> JSONResponse:
        hook.tried += 1
        if hook.slow_s:
            await asyncio.sleep(hook.slow_s.pop(0))  # the peer is slow, not the test
        status = hook.answers.pop(0) if hook.answers else 202
        if status < 300:
            hook.received.append((dict(request.headers), await request.body()))
        return JSONResponse({}, status_code=status)

    with serving(app, lifespan="off") as url:
        hook.url = f"{url}/hook"
        yield hook


@pytest.fixture
def pd(start_emulator: StartEmulator) -> httpx.Client:
    client = start_emulator(EmulatorConfig(rate_limit=0, webhooks=FAST))
    client.put("/_control/rest", json={"tokens": [TOKEN]}).raise_for_status()
    return client


def subscribe(pd: httpx.Client, receiver: Receiver, events: list[str] = INCIDENT_EVENTS) -> Any:
    answer = pd.post("/webhook_subscriptions", headers=AUTH, json={"webhook_subscription": {
        "type": "webhook_subscription",
        "delivery_method": {"type": "http_delivery_method", "url": receiver.url},
        "events": events, "filter": {"type": "service_reference", "id": "PDEFAULT"},
    }})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()["webhook_subscription"]


def test_each_change_of_an_incident_is_delivered_signed_in_order(
    pd: httpx.Client, receiver: Receiver
) -> None:
    subscription = subscribe(pd, receiver)
    secret = subscription["delivery_method"]["secret"]
    pd.post("/v2/enqueue", json=trigger("disk-full")).raise_for_status()
    [incident] = wait_for(lambda: pd.get("/_inspect/incidents").json()["incidents"])

    pd.post(f"/_control/incidents/{incident['id']}/acknowledge", json={"agent": "Alice Oncall"})
    pd.post(f"/_control/incidents/{incident['id']}/resolve", json={"agent": "Bob Oncall"})

    wait_for(lambda: len(receiver.received) == 3, what="three deliveries")
    for headers, body in receiver.received:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-pagerduty-signature"] == f"v1={expected}"
        assert headers["x-webhook-id"]
    events = receiver.events()
    assert [(e["event_type"], e["data"]["status"]) for e in events] == [
        ("incident.triggered", "triggered"),
        ("incident.acknowledged", "acknowledged"),
        ("incident.resolved", "resolved"),
    ]
    assert {e["data"]["incident_key"] for e in events} == {"disk-full"}
    assert [e["agent"]["summary"] for e in events[1:]] == ["Alice Oncall", "Bob Oncall"]
    assert (
        pd.get(f"/webhook_subscriptions/{subscription['id']}", headers=AUTH).json()[
            "webhook_subscription"
        ]["delivery_method"]["secret"]
        is None
    )


def test_a_failing_delivery_is_retried_and_what_follows_waits_for_it(
    pd: httpx.Client, receiver: Receiver
) -> None:
    subscribe(pd, receiver)
    receiver.answers = [500, 429, 503]
    pd.post("/v2/enqueue", json=trigger("disk-full")).raise_for_status()
    [incident] = wait_for(lambda: pd.get("/_inspect/incidents").json()["incidents"])
    pd.post(f"/_control/incidents/{incident['id']}/resolve").raise_for_status()

    wait_for(lambda: len(receiver.received) == 2, what="both delivered")

    assert [e["event_type"] for e in receiver.events()] == [
        "incident.triggered",
        "incident.resolved",
    ]
    first = pd.get("/_inspect/webhooks").json()["deliveries"][0]
    assert (first["statuses"], first["outcome"]) == ([500, 429, 503, 202], "delivered")


def test_three_refused_deliveries_in_a_row_disable_the_subscription_until_enabled(
    pd: httpx.Client, receiver: Receiver
) -> None:
    subscription = subscribe(pd, receiver)
    receiver.answers = [400, 404, 410]
    for key in ("a", "b", "c"):
        pd.post("/v2/enqueue", json=trigger(key)).raise_for_status()
    path = f"/webhook_subscriptions/{subscription['id']}"

    wait_for(
        lambda: pd.get(path, headers=AUTH).json()["webhook_subscription"]["delivery_method"][
            "temporarily_disabled"
        ],
        what="the subscription disabled",
    )
    assert receiver.tried == 3 and receiver.received == []
    pd.post("/v2/enqueue", json=trigger("d")).raise_for_status()
    assert pd.post(f"{path}/enable", headers=AUTH).status_code == 200
    pd.post("/v2/enqueue", json=trigger("e")).raise_for_status()
    wait_for(lambda: receiver.received, what="a delivery once enabled again")
    assert [e["data"]["incident_key"] for e in receiver.events()] == ["e"]


def test_a_ping_is_delivered_and_an_unknown_subscription_is_404(
    pd: httpx.Client, receiver: Receiver
) -> None:
    subscription = subscribe(pd, receiver)

    assert (
        pd.post(f"/webhook_subscriptions/{subscription['id']}/ping", headers=AUTH).status_code
        == 202
    )

    wait_for(lambda: receiver.received, what="the ping")
    assert receiver.events()[0]["event_type"] == "pagey.ping"
    assert pd.post("/webhook_subscriptions/PNOSUCH/ping", headers=AUTH).status_code == 404
    assert (
        pd.delete(f"/webhook_subscriptions/{subscription['id']}", headers=AUTH).status_code == 204
    )
    assert pd.get(f"/webhook_subscriptions/{subscription['id']}", headers=AUTH).status_code == 404


def test_a_delivery_not_answered_in_time_is_tried_again(
    pd: httpx.Client, receiver: Receiver
) -> None:
    subscribe(pd, receiver)
    receiver.slow_s = [FAST.timeout_s + 0.5]

    pd.post("/v2/enqueue", json=trigger("disk-full")).raise_for_status()

    wait_for(lambda: receiver.received, what="the delivery, tried again")
    [delivery] = pd.get("/_inspect/webhooks").json()["deliveries"]
    assert (delivery["statuses"], delivery["outcome"]) == ([None, 202], "delivered")

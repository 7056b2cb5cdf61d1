"""Subscribing a connector to the emulator's webhooks through rbtk's API, on both databases:
the emulator then signs and delivers what happens to rbtk's incidents, and rbtk shows it."""

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from rbtk.admin import connectors
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from tests.factories import KEY, add_connector, evidence
from tests.waiting import wait_for

TOKEN = "y_NbAkKc66ryYTWUXYEu"
SERVICE = "PWARE01"
EVIDENCE_KEY = "rbtk:evidence-fail:warehouse:v1.4.0"
WEBHOOKS = "/api/v1/pagerduty/connectors/pd-production/webhooks"


@pytest.fixture
def pd(context: Context, service: str, emulator: str) -> Iterator[httpx.Client]:
    """The emulator, whose REST API (TOKEN) knows pd-production's service."""
    with httpx.Client(base_url=emulator, timeout=5) as client:
        client.put(
            f"/_control/services/{SERVICE}", json={"name": "Warehouse", "integration_keys": [KEY]}
        ).raise_for_status()
        client.put("/_control/rest", json={"tokens": [TOKEN]}).raise_for_status()
        now = datetime.now(UTC)
        add_connector(context, now=now)
        with context.engine.begin() as connection:
            connectors.update(
                connection, vault=context.vault, name="pd-production", rest_key=TOKEN,
                changes={"service_id": SERVICE}, by="test", now=now,
            )  # fmt: skip
        yield client


@pytest.fixture
def rbtk(service: str, admin_token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=service, headers=headers, timeout=30) as client:
        yield client


def subscribe(rbtk: httpx.Client, service: str) -> dict[str, object]:
    answer = rbtk.post(WEBHOOKS, json={"url": f"{service}/api/v1/pagerduty/webhooks/pd-production"})
    assert answer.status_code == 201, answer.text
    subscribed: dict[str, object] = answer.json()
    return subscribed


def lane(rbtk: httpx.Client) -> dict[str, object]:
    [incident] = rbtk.get("/api/v1/incidents").json()["incidents"]
    found: dict[str, object] = incident["connectors"][0]
    return found


def test_an_acknowledge_by_hand_in_pagerduty_shows_on_the_incident_within_seconds(
    context: Context, pd: httpx.Client, rbtk: httpx.Client, service: str
) -> None:
    subscribe(rbtk, service)
    ingest(context, [evidence("ev-1", datetime.now(UTC), "v1.4.0")], datetime.now(UTC))
    triggered = wait_for(
        lambda: lane(rbtk)["pagerduty"], what="PagerDuty's incident.triggered delivered"
    )
    assert triggered["status"] == "triggered"  # type: ignore[index]
    [incident] = pd.get("/_inspect/incidents").json()["incidents"]

    pd.post(
        f"/_control/incidents/{incident['id']}/acknowledge", json={"agent": "Alice Oncall"}
    ).raise_for_status()

    acknowledged = wait_for(
        lambda: lane(rbtk)["pagerduty"],
        until=lambda side: side["status"] == "acknowledged",  # type: ignore[index]
        timeout_s=5,
        what="the acknowledge on GET /api/v1/incidents",
    )
    assert acknowledged["by"] == "Alice Oncall"  # type: ignore[index]
    deliveries = pd.get("/_inspect/webhooks").json()["deliveries"]
    assert [(d["event_type"], d["outcome"]) for d in deliveries] == [
        ("incident.triggered", "delivered"),
        ("incident.acknowledged", "delivered"),
    ]


def test_a_subscription_is_shown_pinged_and_disabled(
    pd: httpx.Client, rbtk: httpx.Client, service: str
) -> None:
    subscribed = subscribe(rbtk, service)

    pinged = rbtk.post(f"{WEBHOOKS}/ping")

    assert (pinged.status_code, pinged.json()) == (200, {"arrived": True})
    shown = rbtk.get(WEBHOOKS).json()
    assert shown["subscription_id"] == subscribed["subscription_id"]
    assert (shown["active"], shown["temporarily_disabled"], shown["error"]) == (True, False, None)
    assert shown["last_event_type"] == "pagey.ping"
    assert "secret" not in str(shown).lower()
    assert rbtk.delete(WEBHOOKS).status_code == 204
    assert (
        pd.get("/webhook_subscriptions", headers={"Authorization": f"Token token={TOKEN}"}).json()[
            "webhook_subscriptions"
        ]
        == []
    )
    assert rbtk.get(WEBHOOKS).status_code == 404


def test_a_connector_without_a_rest_api_key_cannot_subscribe(
    context: Context, rbtk: httpx.Client
) -> None:
    add_connector(context, "pd-staging", "fedcba9876543210fedcba9876543210", now=datetime.now(UTC))

    answer = rbtk.post("/api/v1/pagerduty/connectors/pd-staging/webhooks")

    assert answer.status_code == 422
    assert "needs a REST API key and a service id" in answer.json()["detail"]


def test_a_subscription_pagerduty_disabled_is_reported_by_the_check_and_enabled_again(
    pd: httpx.Client, rbtk: httpx.Client, service: str
) -> None:
    refusing = f"{service}/api/v1/pagerduty/webhooks/nobody"  # answers 401: dropped
    subscribed = rbtk.post(WEBHOOKS, json={"url": refusing}).json()
    ping = f"/webhook_subscriptions/{subscribed['subscription_id']}/ping"
    for _ in range(3):
        assert pd.post(ping, headers={"Authorization": f"Token token={TOKEN}"}).status_code == 202
    wait_for(lambda: rbtk.get(WEBHOOKS).json()["temporarily_disabled"], what="disabled")

    checked = rbtk.get("/api/v1/pagerduty/connectors/pd-production/check").json()

    [webhooks] = [check for check in checked["checks"] if check["name"] == "webhooks"]
    assert webhooks["level"] == "fail"
    assert "3 deliveries dropped in a row" in webhooks["message"]
    enabled = rbtk.post(f"{WEBHOOKS}/enable")
    assert (enabled.status_code, enabled.json()["temporarily_disabled"]) == (200, False)

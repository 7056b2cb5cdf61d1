"""PagerDuty's webhook deliveries at POST /api/v1/pagerduty/webhooks/{connector}: only a
delivery signed with one of the connector's secrets is stored, once per X-Webhook-Id, and
PagerDuty's side then shows on the incident in GET /api/v1/incidents."""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.reconcile import webhook_secrets
from rbtk.runtime.secrets import Secret
from rbtk.store.tables import pagerduty_webhook_events
from tests.factories import add_connector, evidence

URL = "/api/v1/pagerduty/webhooks/pd-production"
SECRET = "ChxnK1mTqmxvN2Eo3ULm6I3Y4yprP3aPmkqOkFd6E6Y0gUwCwJQZBzKyv7IJZ8ZU"
OLD_SECRET = "9Hb8y2PH9Kl0b5yWIBx2TtWQmGx3rcbx0mFe8vDjt6aRhYtZ1pNcEOTUsvLpAK3d"
EVIDENCE_KEY = "rbtk:evidence-fail:warehouse:v1.4.0"


def sign(body: bytes, secret: str) -> str:
    """As PagerDuty signs (its developer docs' Python example), independently of rbtk."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery(
    event_type: str = "incident.acknowledged",
    *,
    key: str = EVIDENCE_KEY,
    status: str = "acknowledged",
    agent: str | None = "Alice Oncall",
    at: str = "2026-12-08T02:14:05.123Z",
) -> bytes:
    event: dict[str, Any] = {
        "id": "01DEN2QZ0VBVJGAXX3PIDZQXKA",
        "event_type": event_type,
        "resource_type": "incident",
        "occurred_at": at,
        "agent": None
        if agent is None
        else {"id": "PLH1HKV", "summary": agent, "type": "user_reference"},
        "client": None,
        "data": {
            "id": "Q0PL0T7YV7DPEF",
            "type": "incident",
            "incident_key": key,
            "status": status,
            "title": "Evidence pack failed",
            "service": {"id": "PWARE01", "type": "service_reference"},
            "resolve_reason": None,
        },
    }
    return json.dumps({"event": event}, separators=(",", ":")).encode()


@pytest.fixture
def connector(context: Context) -> int:
    """pd-production, subscribed with SECRET."""
    now = datetime.now(UTC)
    connector_id = add_connector(context, now=now)
    with context.engine.begin() as connection:
        webhook_secrets.save(
            connection, context.vault, connector_id=connector_id, subscription_id="PSUB001",
            url="https://rbtk.test" + URL, secret=Secret(SECRET), now=now,
        )  # fmt: skip
    return connector_id


def post(client: TestClient, body: bytes, signature: str | None, webhook_id: str = "wh-1") -> Any:
    headers = {"Content-Type": "application/json", "X-Webhook-Id": webhook_id}
    if signature is not None:
        headers["X-PagerDuty-Signature"] = signature
    return client.post(URL, content=body, headers=headers)


def stored(context: Context) -> int:
    with context.engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(pagerduty_webhook_events)
            ).scalar_one()
        )


def page(context: Context) -> None:
    ingest(context, [evidence("ev-1", datetime.now(UTC), "v1.4.0")], datetime.now(UTC))


def pagerduty_side(admin: TestClient) -> dict[str, Any] | None:
    [incident] = admin.get("/api/v1/incidents").json()["incidents"]
    [lane] = incident["connectors"]
    side: dict[str, Any] | None = lane["pagerduty"]
    return side


def test_a_signed_acknowledge_shows_who_acknowledged_on_the_incident(
    context: Context, client: TestClient, admin_token: str, connector: int
) -> None:
    page(context)
    body = delivery()

    answer = post(client, body, sign(body, SECRET))

    assert (answer.status_code, answer.json()) == (202, {"status": "accepted"})
    admin = {"Authorization": f"Bearer {admin_token}"}
    [incident] = client.get("/api/v1/incidents", headers=admin).json()["incidents"]
    assert incident["connectors"][0]["pagerduty"] == {
        "status": "acknowledged",
        "by": "Alice Oncall",
        "at": "2026-12-08T02:14:05.123000Z",
    }


def test_a_wrong_signature_is_refused_and_nothing_is_stored(
    context: Context, client: TestClient, connector: int
) -> None:
    body = delivery()

    answer = post(client, body, sign(body, "not-the-secret"))

    assert answer.status_code == 401
    assert "X-PagerDuty-Signature" in answer.json()["detail"]
    assert stored(context) == 0


def test_a_signature_of_another_body_is_refused(
    context: Context, client: TestClient, connector: int
) -> None:
    answer = post(client, delivery(), sign(delivery(status="resolved"), SECRET))

    assert answer.status_code == 401 and stored(context) == 0


def test_a_missing_signature_is_refused_and_nothing_is_stored(
    context: Context, client: TestClient, connector: int
) -> None:
    assert post(client, delivery(), None).status_code == 401
    assert post(client, delivery(), "").status_code == 401
    assert stored(context) == 0


def test_a_connector_without_webhooks_refuses_as_a_bad_signature_does(
    context: Context, client: TestClient
) -> None:
    add_connector(context, now=datetime.now(UTC))
    body = delivery()

    answer = post(client, body, sign(body, SECRET))

    assert answer.status_code == 401 and stored(context) == 0
    assert client.post("/api/v1/pagerduty/webhooks/nobody", content=body).status_code == 401


def test_during_a_rotation_either_secret_in_either_place_is_accepted(
    context: Context, client: TestClient, connector: int
) -> None:
    with context.engine.begin() as connection:  # subscribed again: SECRET is now the old one
        webhook_secrets.save(
            connection, context.vault, connector_id=connector, subscription_id="PSUB002",
            url="https://rbtk.test" + URL, secret=Secret(OLD_SECRET), now=datetime.now(UTC),
        )  # fmt: skip
    body = delivery()
    both = f"{sign(body, 'an-unknown-one')},{sign(body, SECRET)}"

    assert post(client, body, both, webhook_id="wh-1").status_code == 202
    assert post(client, body, f"v1=00ff, {sign(body, OLD_SECRET)}", "wh-2").status_code == 202
    assert post(client, body, sign(body, SECRET), webhook_id="wh-3").status_code == 202
    assert stored(context) == 3


def test_a_replayed_webhook_id_is_answered_and_stored_once(
    context: Context, client: TestClient, connector: int
) -> None:
    body = delivery()

    first = post(client, body, sign(body, SECRET), webhook_id="wh-7")
    again = post(client, body, sign(body, SECRET), webhook_id="wh-7")

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == {"status": "repeated"}
    assert stored(context) == 1


def test_an_event_type_rbtk_does_not_use_is_accepted_and_changes_nothing(
    context: Context, client: TestClient, admin_token: str, connector: int
) -> None:
    page(context)
    client.headers["Authorization"] = f"Bearer {admin_token}"
    for event_type in ("incident.annotated", "service.updated", "incident.some_new_thing"):
        body = delivery(event_type)

        answer = post(client, body, sign(body, SECRET), webhook_id=event_type)

        assert answer.status_code == 202
    assert stored(context) == 3
    assert pagerduty_side(client) is None


def test_a_body_over_a_megabyte_is_refused_unread(
    context: Context, client: TestClient, connector: int
) -> None:
    body = b'{"event": {"padding": "' + b"x" * (1024 * 1024) + b'"}}'

    answer = post(client, body, sign(body, SECRET))

    assert answer.status_code == 413
    assert stored(context) == 0

"""PagerDuty's webhook deliveries applied, on both databases, with rbtk paging the emulator: a
resolve by hand while the condition still fires is settled as a reconcile pass settles it."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from rbtk.admin import connectors, incidents
from rbtk.admin.incidents import PagerDutySide
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.reconcile import webhook_apply, webhook_inbox, webhook_secrets
from rbtk.runtime.secrets import Secret
from tests.factories import add_connector, evidence
from tests.waiting import wait_for

SECRET = "ChxnK1mTqmxvN2Eo3ULm6I3Y4yprP3aPmkqOkFd6E6Y0gUwCwJQZBzKyv7IJZ8ZU"
KEY = "rbtk:evidence-fail:warehouse:v1.4.0"


def resolved_by(name: str, webhook_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"event": {
        "id": webhook_id, "event_type": "incident.resolved", "resource_type": "incident",
        "occurred_at": datetime.now(UTC).isoformat(), "client": None,
        "agent": {"id": "PLH1HKV", "summary": name, "type": "user_reference"},
        "data": {"id": "Q1", "type": "incident", "incident_key": KEY, "status": "resolved"},
    }}).encode()  # fmt: skip
    signature = "v1=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-PagerDuty-Signature": signature, "X-Webhook-Id": webhook_id}


@pytest.fixture
def rbtk(context: Context, service: str, emulator: str) -> Iterator[httpx.Client]:
    """rbtk serving and paging the emulator; pd-production subscribed with SECRET; a page sent."""
    now = datetime.now(UTC)
    connector_id = add_connector(context, now=now)
    with context.engine.begin() as connection:
        webhook_secrets.save(
            connection, context.vault, connector_id=connector_id, subscription_id="PSUB001",
            url=f"{service}/api/v1/pagerduty/webhooks/pd-production", secret=Secret(SECRET),
            now=now,
        )  # fmt: skip
    ingest(context, [evidence("ev-1", now, "v1.4.0")], now)
    with httpx.Client(base_url=emulator, timeout=5) as pd:
        wait_for(
            lambda: pd.get("/_inspect/alerts", params={"status": "open"}).json()["alerts"],
            what="the page at PagerDuty",
        )
    with httpx.Client(base_url=service, timeout=5) as client:
        yield client


def lane(rbtk: httpx.Client, token: str) -> dict[str, object]:
    answer = rbtk.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    [incident] = answer.json()["incidents"]
    found: dict[str, object] = incident["connectors"][0]
    return found


def test_a_resolve_by_hand_while_still_firing_is_marked_within_seconds(
    rbtk: httpx.Client, admin_token: str
) -> None:
    body, headers = resolved_by("Alice Oncall", "wh-1")

    assert rbtk.post("/api/v1/pagerduty/webhooks/pd-production", content=body,
                     headers=headers).status_code == 202  # fmt: skip

    marked = wait_for(
        lambda: lane(rbtk, admin_token),
        until=lambda found: found["state"] == "resolved in PagerDuty by hand",
        what="the lane marked resolved by hand",
    )
    assert marked["pagerduty"] is not None
    assert (marked["pagerduty"]["status"], marked["pagerduty"]["by"]) == (  # type: ignore[index]
        "resolved", "Alice Oncall",
    )  # fmt: skip


def test_a_connector_that_opts_in_pages_again_what_was_resolved_by_hand(
    context: Context, rbtk: httpx.Client, emulator: str
) -> None:
    with context.engine.begin() as connection:
        connectors.update(
            connection, vault=context.vault, name="pd-production",
            changes={"repage_resolved_by_hand": True}, by="test", now=datetime.now(UTC),
        )  # fmt: skip
    with httpx.Client(base_url=emulator, timeout=5) as pd:
        [incident] = pd.get("/_inspect/incidents").json()["incidents"]
        pd.post(f"/_control/incidents/{incident['id']}/resolve").raise_for_status()
        body, headers = resolved_by("Alice Oncall", "wh-1")

        rbtk.post("/api/v1/pagerduty/webhooks/pd-production", content=body, headers=headers)

        opened = wait_for(
            lambda: pd.get("/_inspect/alerts", params={"status": "open"}).json()["alerts"],
            what="the page sent again",
        )
    assert [alert["dedup_key"] for alert in opened] == [KEY]


def acknowledged_by(name: str) -> bytes:
    return json.dumps({"event": {
        "id": "E1", "event_type": "incident.acknowledged", "resource_type": "incident",
        "occurred_at": "2026-12-08T02:14:05Z", "client": None,
        "agent": {"id": "PLH1HKV", "summary": name, "type": "user_reference"},
        "data": {"id": "Q1", "type": "incident", "incident_key": KEY, "status": "acknowledged"},
    }}).encode()  # fmt: skip


@pytest.fixture
def stored(context: Context) -> None:
    """A page, and an acknowledge stored as the API stores it, not applied yet (as after a
    restart between the answer and the applying)."""
    now = datetime.now(UTC)
    connector_id = add_connector(context, now=now)
    ingest(context, [evidence("ev-1", now, "v1.4.0")], now)
    body = acknowledged_by("Alice Oncall")
    with context.engine.begin() as connection:
        webhook_secrets.save(
            connection, context.vault, connector_id=connector_id, subscription_id="PSUB001",
            url="https://rbtk.test/hook", secret=Secret(SECRET), now=now,
        )  # fmt: skip
        webhook_inbox.receive(
            connection, context.vault, connector="pd-production", body=body,
            signature="v1=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
            webhook_id="wh-1", now=now,
        )  # fmt: skip


def test_a_delivery_left_unapplied_is_applied_once_by_the_next_look(
    context: Context, stored: None
) -> None:
    first = webhook_apply.apply_pending(context, now=datetime.now(UTC))
    again = webhook_apply.apply_pending(context, now=datetime.now(UTC))

    assert (first.deliveries, first.recorded, again.deliveries) == (1, 1, 0)
    with context.engine.connect() as connection:
        [lane] = incidents.get(connection, KEY, now=datetime.now(UTC)).lanes
    assert lane.pagerduty == PagerDutySide(
        "acknowledged", "Alice Oncall", datetime(2026, 12, 8, 2, 14, 5, tzinfo=UTC)
    )


def test_applied_deliveries_are_forgotten_past_retention(context: Context, stored: None) -> None:
    now = datetime.now(UTC)
    webhook_apply.apply_pending(context, now=now)

    assert webhook_apply.prune(context, now=now + timedelta(days=29)) == 0
    assert webhook_apply.prune(context, now=now + timedelta(days=31)) == 1

"""/api/v1/audit: every configuration change through the API, who made it, before and after,
secrets only masked."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rbtk.context import Context
from rbtk.outbox.log import retention
from rbtk.runtime.timefmt import parse_rfc3339
from rbtk.store.tables import audit_log

# On both databases: the audit log's filtered reads are tested here only.
pytestmark = pytest.mark.both_databases

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
NEW_KEY = "N3wR0b0t1cksIntegrationKey77c3d4"
CONNECTORS = "/api/v1/pagerduty/connectors"
WINDOWS = "/api/v1/pagerduty/suppressions"
CHANNELS = "/api/v1/notify/channels"
WEBHOOK = "https://hooks.slack.com/services/T0001/B0002/s3cr3tW3bh00kT0k3nXyZ9"
URL = "/api/v1/audit"


def add_connector(admin: TestClient, name: str = "pd-production", key: str = KEY) -> None:
    answer = admin.post(CONNECTORS, json={"name": name, "integration_key": key})
    assert answer.status_code == 201, answer.text


def entries(admin: TestClient, **params: Any) -> list[dict[str, Any]]:
    answer = admin.get(URL, params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["entries"])


def stored_rows(context: Context) -> list[str]:
    """Every audit row as the database holds it, as text: to look for a secret in it."""
    with context.engine.connect() as connection:
        return [repr(tuple(row)) for row in connection.execute(select(audit_log))]


def test_a_connector_update_records_the_tokens_name_and_what_changed(
    admin: TestClient,
) -> None:
    add_connector(admin)
    before = datetime.now(UTC)

    changed = admin.patch(f"{CONNECTORS}/pd-production", json={"send_info": True})

    assert changed.status_code == 200, changed.text
    newest = entries(admin)[0]
    assert {k: newest[k] for k in ("actor", "action", "target", "changes")} == {
        "actor": "test",  # the name of the token that asked
        "action": "connector.update",
        "target": "pd-production",
        "changes": [{"field": "send_info", "before": False, "after": True}],
    }
    assert newest["before"]["key"] == newest["after"]["key"] == "••••••••…a1b2"
    assert before <= parse_rfc3339(newest["at"]) <= datetime.now(UTC)


def test_a_new_key_is_recorded_masked_and_neither_key_is_stored_in_the_clear(
    admin: TestClient, context: Context
) -> None:
    add_connector(admin)

    admin.patch(f"{CONNECTORS}/pd-production", json={"integration_key": NEW_KEY})

    newest = entries(admin)[0]
    changed = {c["field"]: (c["before"], c["after"]) for c in newest["changes"]}
    assert changed["key"] == ("••••••••…a1b2", "••••••••…c3d4")
    assert set(changed) == {"key", "key_fingerprint"}
    rows = stored_rows(context)
    assert len(rows) == 2  # the add, then the new key
    assert not [row for row in rows if KEY in row or NEW_KEY in row]


def test_adding_and_removing_a_connector_are_recorded_with_no_state_before_or_after(
    admin: TestClient,
) -> None:
    add_connector(admin)

    admin.delete(f"{CONNECTORS}/pd-production")

    removed, added = entries(admin)
    assert (added["action"], added["before"], added["after"]["name"]) == (
        "connector.add",
        None,
        "pd-production",
    )
    assert (removed["action"], removed["before"]["name"], removed["after"]) == (
        "connector.remove",
        "pd-production",
        None,
    )


def test_an_update_that_changes_nothing_records_nothing(admin: TestClient) -> None:
    add_connector(admin)

    answer = admin.patch(f"{CONNECTORS}/pd-production", json={"send_info": False})

    assert answer.status_code == 200
    assert [e["action"] for e in entries(admin)] == ["connector.add"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", f"{CONNECTORS}/pd-production", {"integration_key": "x" * 20}),
        ("PATCH", f"{CONNECTORS}/pd-production", {"enable": ["no_such_rule"]}),
        ("PUT", "/api/v1/pagerduty/routing", {"rules": [{"position": 1, "connectors": ["nope"]}]}),
        ("POST", CHANNELS, {"name": "pd-production", "kind": "slack", "webhook_url": "nope"}),
    ],
)
def test_a_refused_change_records_nothing(
    admin: TestClient, method: str, path: str, body: dict[str, Any]
) -> None:
    add_connector(admin)

    answer = admin.request(method, path, json=body)

    assert answer.status_code == 422, answer.text
    assert [e["action"] for e in entries(admin)] == ["connector.add"]


def test_replacing_the_routing_records_the_rules_before_and_after(admin: TestClient) -> None:
    add_connector(admin)
    rule = {"position": 1, "project": "warehouse", "connectors": ["pd-production"]}

    admin.put("/api/v1/pagerduty/routing", json={"rules": [rule]})

    newest = entries(admin)[0]
    assert {k: newest[k] for k in ("action", "target", "before", "after")} == {
        "action": "routing.replace",
        "target": "pagerduty routing",
        "before": {"rules": []},
        "after": {
            "rules": [{"project": "warehouse", "event_type": None, "connectors": ["pd-production"]}]
        },
    }


def test_opening_and_ending_a_window_are_recorded_by_its_id(admin: TestClient) -> None:
    add_connector(admin)
    opened = admin.post(
        WINDOWS, json={"connector": "pd-production", "reason": "Maintenance", "duration_s": 3600}
    ).json()["suppressions"][0]

    ended = admin.post(f"{WINDOWS}/{opened['id']}/end").json()

    end, create = entries(admin, action="suppression")
    target = f"window #{opened['id']}"
    assert (create["action"], create["target"], create["before"]) == (
        "suppression.create",
        target,
        None,
    )
    assert create["after"] | {"ends_at": None} == {
        "connector": "pd-production",
        "starts_at": opened["starts_at"],
        "ends_at": None,
        "reason": "Maintenance",
        "ended_early_at": None,
        "ended_by": None,
    }
    assert (end["action"], end["target"], end["actor"]) == ("suppression.end", target, "test")
    assert {c["field"]: c["after"] for c in end["changes"]} == {
        "ends_at": ended["ends_at"],
        "ended_early_at": ended["ended_early_at"],
        "ended_by": "test",
    }


def test_adding_and_removing_a_chat_channel_are_recorded_with_its_webhook_masked(
    admin: TestClient, context: Context
) -> None:
    admin.post(CHANNELS, json={"name": "ops-slack", "kind": "slack", "webhook_url": WEBHOOK})

    admin.delete(f"{CHANNELS}/ops-slack")

    removed, added = entries(admin)
    assert (added["action"], added["after"]["secret"]) == ("channel.add", "••••••••…XyZ9")
    assert (removed["action"], removed["target"], removed["after"]) == (
        "channel.remove",
        "ops-slack",
        None,
    )
    assert not [row for row in stored_rows(context) if "s3cr3tW3bh00k" in row]


def test_entries_come_newest_first_a_page_at_a_time(admin: TestClient) -> None:
    add_connector(admin)
    for value in (True, False, True):
        admin.patch(f"{CONNECTORS}/pd-production", json={"send_info": value})

    first = admin.get(URL, params={"limit": 3}).json()
    second = admin.get(URL, params={"limit": 3, "before_id": first["next_before_id"]}).json()

    ids = [e["id"] for e in first["entries"]] + [e["id"] for e in second["entries"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 4
    assert second["next_before_id"] is None
    assert [e["action"] for e in second["entries"]] == ["connector.add"]


def test_entries_filter_by_action_family_and_by_target(admin: TestClient) -> None:
    add_connector(admin)
    add_connector(admin, "pd-staging")
    admin.patch(f"{CONNECTORS}/pd-staging", json={"region": "eu"})
    admin.post(CHANNELS, json={"name": "ops-slack", "kind": "slack", "webhook_url": WEBHOOK})

    connectors = entries(admin, action="connector")
    updates = entries(admin, action="connector.update")
    staging = entries(admin, target="pd-staging")

    assert [e["action"] for e in connectors] == [
        "connector.update",
        "connector.add",
        "connector.add",
    ]
    assert [(e["action"], e["target"]) for e in updates] == [("connector.update", "pd-staging")]
    assert [e["action"] for e in staging] == ["connector.update", "connector.add"]


def test_an_events_token_may_not_read_the_audit_log(client: TestClient, events_token: str) -> None:
    answer = client.get(URL, headers={"Authorization": f"Bearer {events_token}"})

    assert answer.status_code == 403


def test_the_audit_log_is_kept_when_retention_prunes_the_rest(
    admin: TestClient, context: Context
) -> None:
    add_connector(admin)

    retention.prune(context.engine, before=datetime.now(UTC) + timedelta(days=3650))

    assert [e["action"] for e in entries(admin)] == ["connector.add"]

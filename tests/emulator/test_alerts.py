from typing import Any

import httpx

from tests.emulator.builders import (
    OTHER_ROUTING_KEY,
    ROUTING_KEY,
    acknowledge,
    processed,
    resolve,
    trigger,
)


def send(pd: httpx.Client, event: dict[str, Any]) -> dict[str, Any]:
    response = pd.post("/v2/enqueue", json=event)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def alerts(pd: httpx.Client, status: str | None = None) -> list[dict[str, Any]]:
    params = {} if status is None else {"status": status}
    found: list[dict[str, Any]] = pd.get("/_inspect/alerts", params=params).json()["alerts"]
    return found


def test_it_opens_an_alert_for_a_trigger(pd: httpx.Client) -> None:
    send(pd, trigger("pool-eu-1", summary="Runner pool eu-1 is offline", severity="critical"))

    [alert] = alerts(pd)
    assert alert == {
        "id": alert["id"],
        "routing_key": ROUTING_KEY,
        "dedup_key": "pool-eu-1",
        "status": "triggered",
        "severity": "critical",
        "summary": "Runner pool eu-1 is offline",
        "event_count": 1,
        "created_at": alert["created_at"],
        "updated_at": alert["created_at"],
        "acknowledged_at": None,
        "resolved_at": None,
        "last_payload": {
            "summary": "Runner pool eu-1 is offline",
            "source": "runner-pool/eu-1",
            "severity": "critical",
        },
    }


def test_it_appends_a_repeated_trigger_to_the_open_alert(pd: httpx.Client) -> None:
    send(pd, trigger("pool-eu-1", summary="Runner pool eu-1 is offline", severity="warning"))
    send(pd, trigger("pool-eu-1", summary="Runner pool eu-1 is still offline", severity="error"))

    [alert] = alerts(pd)
    assert alert["status"] == "triggered"
    assert alert["event_count"] == 2
    assert alert["severity"] == "error"
    assert alert["summary"] == "Runner pool eu-1 is still offline"
    assert alert["last_payload"]["summary"] == "Runner pool eu-1 is still offline"


def test_it_acknowledges_an_open_alert(pd: httpx.Client) -> None:
    send(pd, trigger("pool-eu-1"))
    send(pd, acknowledge("pool-eu-1"))

    [alert] = alerts(pd, "acknowledged")
    assert alert["event_count"] == 2
    assert alert["acknowledged_at"] == alert["updated_at"]
    assert alerts(pd, "open") == [alert]
    assert alerts(pd, "triggered") == []


def test_it_resolves_an_open_alert(pd: httpx.Client) -> None:
    send(pd, trigger("pool-eu-1"))
    send(pd, resolve("pool-eu-1"))

    [alert] = alerts(pd, "resolved")
    assert alert["status"] == "resolved"
    assert alert["resolved_at"] == alert["updated_at"]
    assert alerts(pd, "open") == []


def test_it_drops_a_resolve_of_an_unknown_key_but_answers_202(pd: httpx.Client) -> None:
    assert send(pd, resolve("never-triggered")) == processed("never-triggered")

    [event] = pd.get("/_inspect/events").json()["events"]
    assert (event["outcome"], event["alert_id"]) == ("dropped", None)
    assert alerts(pd) == []


def test_it_drops_an_acknowledge_of_a_resolved_alert(pd: httpx.Client) -> None:
    send(pd, trigger("pool-eu-1"))
    send(pd, resolve("pool-eu-1"))

    assert send(pd, acknowledge("pool-eu-1")) == processed("pool-eu-1")

    [alert] = alerts(pd)
    assert (alert["status"], alert["event_count"]) == ("resolved", 2)


def test_it_opens_a_new_alert_when_triggered_after_resolve(pd: httpx.Client) -> None:
    send(pd, trigger("pool-eu-1"))
    send(pd, resolve("pool-eu-1"))
    send(pd, trigger("pool-eu-1"))

    first, second = alerts(pd)
    assert first["id"] != second["id"]
    assert (first["status"], second["status"]) == ("resolved", "triggered")
    assert alerts(pd, "open") == [second]


def test_it_scopes_dedup_keys_to_the_routing_key(pd: httpx.Client) -> None:
    send(pd, trigger("pool-eu-1", routing_key=ROUTING_KEY))
    send(pd, trigger("pool-eu-1", routing_key=OTHER_ROUTING_KEY))
    send(pd, resolve("pool-eu-1", routing_key=OTHER_ROUTING_KEY))

    first, second = alerts(pd)
    assert (first["routing_key"], first["status"]) == (ROUTING_KEY, "triggered")
    assert (second["routing_key"], second["status"]) == (OTHER_ROUTING_KEY, "resolved")


def test_it_lists_every_accepted_event_in_order(pd: httpx.Client) -> None:
    generated = send(pd, trigger())["dedup_key"]
    send(pd, trigger("pool-eu-1"))
    send(pd, resolve("pool-eu-1"))

    events = pd.get("/_inspect/events").json()["events"]
    alert_ids = [alert["id"] for alert in alerts(pd)]
    assert [{k: v for k, v in event.items() if k != "received_at"} for event in events] == [
        {
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "dedup_key": generated,
            "outcome": "opened",
            "alert_id": alert_ids[0],
            "body": trigger(),
        },
        {
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "dedup_key": "pool-eu-1",
            "outcome": "opened",
            "alert_id": alert_ids[1],
            "body": trigger("pool-eu-1"),
        },
        {
            "routing_key": ROUTING_KEY,
            "event_action": "resolve",
            "dedup_key": "pool-eu-1",
            "outcome": "resolved",
            "alert_id": alert_ids[1],
            "body": resolve("pool-eu-1"),
        },
    ]

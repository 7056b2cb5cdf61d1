"""`/_control` for the REST API's world: services, maintenance, resolving by hand, and
`/_inspect/incidents`."""

from typing import Any

import httpx

from rbtk.emulator import EmulatorConfig
from rbtk.emulator.services import Service
from tests.emulator.builders import (
    OTHER_ROUTING_KEY,
    ROUTING_KEY,
    acknowledge,
    processed,
    resolve,
    service,
    trigger,
)
from tests.emulator.conftest import StartEmulator

DEFAULT_SERVICE: dict[str, Any] = {
    "id": "PDEFAULT",
    "name": "Default Service",
    "integration_keys": [],
    "alert_creation": "create_alerts_and_incidents",
    "alert_grouping_parameters": {"type": None},
    "auto_resolve_timeout": None,
    "acknowledgement_timeout": None,
    "incident_urgency_rule": {"type": "constant", "urgency": "high"},
}


def incidents(pd: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = pd.get("/_inspect/incidents").json()["incidents"]
    return found


def test_only_the_implicit_default_service_is_known_at_first(pd: httpx.Client) -> None:
    assert pd.get("/_control/services").json() == {"services": [DEFAULT_SERVICE]}


def test_a_service_is_put_with_pagerdutys_defaults_for_what_it_leaves_out(
    pd: httpx.Client,
) -> None:
    answer = pd.put("/_control/services/PSERVICE1", json=service("Runners", ROUTING_KEY))

    expected = {**DEFAULT_SERVICE, "id": "PSERVICE1", "name": "Runners",
                "integration_keys": [ROUTING_KEY]}  # fmt: skip
    assert (answer.status_code, answer.json()) == (200, expected)
    assert pd.get("/_control/services").json() == {"services": [DEFAULT_SERVICE, expected]}


def test_a_put_replaces_the_whole_service(pd: httpx.Client) -> None:
    settings = {
        "alert_creation": "create_incidents",
        "alert_grouping_parameters": {"type": "time", "config": {"timeout": 2}},
        "auto_resolve_timeout": 14400,
        "acknowledgement_timeout": 0,
        "incident_urgency_rule": {
            "type": "use_support_hours",
            "during_support_hours": {"type": "constant", "urgency": "high"},
            "outside_support_hours": {"type": "constant", "urgency": "low"},
        },
    }
    pd.put("/_control/services/PSERVICE1", json=service("Runners", ROUTING_KEY, **settings))

    answer = pd.put("/_control/services/PSERVICE1", json=service("Builds"))

    assert answer.json() == {**DEFAULT_SERVICE, "id": "PSERVICE1", "name": "Builds"}
    pd.put("/_control/services/PSERVICE1", json=service("Runners", **settings))
    [_, put] = pd.get("/_control/services").json()["services"]
    assert put == {**DEFAULT_SERVICE, "id": "PSERVICE1", "name": "Runners", **settings,
                   "acknowledgement_timeout": None}  # fmt: skip


def test_a_key_that_feeds_one_service_cannot_be_given_to_another(pd: httpx.Client) -> None:
    pd.put("/_control/services/PSERVICE1", json=service("Runners", ROUTING_KEY))

    answer = pd.put("/_control/services/PSERVICE2", json=service("Builds", ROUTING_KEY))

    assert answer.status_code == 409
    assert answer.json() == {
        "detail": "integration key …cdef already feeds service PSERVICE1; "
        "take it out of PSERVICE1 first"
    }


def test_an_invalid_service_is_refused_with_a_422(pd: httpx.Client) -> None:
    short_key = pd.put("/_control/services/P1", json=service("Runners", "short"))
    no_urgency = pd.put(
        "/_control/services/P1",
        json=service("Runners", incident_urgency_rule={"type": "constant"}),
    )
    unknown = pd.put("/_control/services/P1", json=service("Runners", alert_grouping="time"))

    assert [short_key.status_code, no_urgency.status_code, unknown.status_code] == [422] * 3
    assert pd.get("/_control/services").json() == {"services": [DEFAULT_SERVICE]}


def test_an_alert_of_an_unlisted_key_opens_an_incident_of_the_default_service(
    pd: httpx.Client,
) -> None:
    pd.put("/_control/services/PSERVICE1", json=service("Runners", ROUTING_KEY))
    pd.post("/v2/enqueue", json=trigger("pool-eu-1", routing_key=ROUTING_KEY))
    pd.post("/v2/enqueue", json=trigger("pool-eu-1", routing_key=OTHER_ROUTING_KEY))

    listed = [(i["incident_number"], i["service_id"], i["routing_key"]) for i in incidents(pd)]
    assert listed == [(1, "PSERVICE1", ROUTING_KEY), (2, "PDEFAULT", OTHER_ROUTING_KEY)]


def test_each_alert_is_one_incident_that_follows_its_status(pd: httpx.Client) -> None:
    pd.post("/v2/enqueue", json=trigger("pool-eu-1", summary="Runner pool eu-1 is offline"))
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))
    pd.post("/v2/enqueue", json=acknowledge("pool-eu-1"))

    [incident] = incidents(pd)
    [alert] = pd.get("/_inspect/alerts").json()["alerts"]
    assert incident == {
        "id": incident["id"],
        "incident_number": 1,
        "alert_id": alert["id"],
        "service_id": "PDEFAULT",
        "routing_key": ROUTING_KEY,
        "incident_key": "pool-eu-1",
        "status": "acknowledged",
        "urgency": "high",
        "title": "Runner pool eu-1 is offline",
        "created_at": alert["created_at"],
    }
    assert incident["id"].startswith("Q")


def test_services_are_declared_at_start_and_restored_on_reset(
    start_emulator: StartEmulator,
) -> None:
    declared = Service(id="PSERVICE1", name="Runners", integration_keys=(ROUTING_KEY,))
    pd = start_emulator(EmulatorConfig(services=(declared,)))
    pd.put("/_control/services/PSERVICE2", json=service("Builds", OTHER_ROUTING_KEY))
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))

    pd.post("/_control/reset")

    assert [s["id"] for s in pd.get("/_control/services").json()["services"]] == [
        "PDEFAULT",
        "PSERVICE1",
    ]
    assert incidents(pd) == []
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))
    assert [(i["incident_number"], i["service_id"]) for i in incidents(pd)] == [(1, "PSERVICE1")]


def test_an_incident_resolved_by_hand_drops_later_resolves_and_reopens_on_trigger(
    pd: httpx.Client,
) -> None:
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))
    [opened] = incidents(pd)

    answer = pd.post(f"/_control/incidents/{opened['id']}/resolve")
    late_resolve = pd.post("/v2/enqueue", json=resolve("pool-eu-1"))
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))

    assert (answer.status_code, answer.json()) == (
        200,
        {"incident": {**opened, "status": "resolved"}},
    )
    assert late_resolve.json() == processed("pool-eu-1")
    assert [e["outcome"] for e in pd.get("/_inspect/events").json()["events"]] == [
        "opened",
        "dropped",
        "opened",
    ]
    first, second = incidents(pd)
    assert (first["status"], second["status"]) == ("resolved", "triggered")
    assert (second["incident_number"], second["incident_key"]) == (2, "pool-eu-1")
    [resolved, _] = pd.get("/_inspect/alerts").json()["alerts"]
    assert (resolved["event_count"], resolved["resolved_at"]) == (1, resolved["updated_at"])


def test_an_incident_is_resolved_by_hand_by_its_number_too(pd: httpx.Client) -> None:
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))

    assert pd.post("/_control/incidents/1/resolve").json()["incident"]["status"] == "resolved"


def test_resolving_by_hand_an_unknown_or_resolved_incident_says_so(pd: httpx.Client) -> None:
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))
    pd.post("/v2/enqueue", json=resolve("pool-eu-1"))
    [incident] = incidents(pd)

    unknown = pd.post("/_control/incidents/QNOSUCHINCIDENT/resolve")
    resolved = pd.post(f"/_control/incidents/{incident['id']}/resolve")

    assert (unknown.status_code, unknown.json()) == (
        404,
        {"detail": "no incident QNOSUCHINCIDENT"},
    )
    assert (resolved.status_code, resolved.json()) == (
        409,
        {"detail": f"incident {incident['id']} is resolved already"},
    )


def test_maintenance_drops_resolves_but_answers_them_202(pd: httpx.Client) -> None:
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))

    put = pd.put("/_control/maintenance", json={"drop_resolves": True})
    answer = pd.post("/v2/enqueue", json=resolve("pool-eu-1"))

    assert (put.status_code, put.json()) == (200, {"drop_resolves": True})
    assert (answer.status_code, answer.json()) == (202, processed("pool-eu-1"))
    [_, dropped] = pd.get("/_inspect/events").json()["events"]
    assert (dropped["event_action"], dropped["outcome"], dropped["alert_id"]) == (
        "resolve",
        "dropped",
        None,
    )
    [alert] = pd.get("/_inspect/alerts").json()["alerts"]
    assert (alert["status"], alert["event_count"]) == ("triggered", 1)


def test_resolves_reach_the_alert_again_once_maintenance_ends(pd: httpx.Client) -> None:
    pd.post("/v2/enqueue", json=trigger("pool-eu-1"))
    pd.put("/_control/maintenance", json={"drop_resolves": True})
    pd.post("/v2/enqueue", json=resolve("pool-eu-1"))

    pd.put("/_control/maintenance", json={"drop_resolves": False})
    pd.post("/v2/enqueue", json=resolve("pool-eu-1"))

    assert pd.get("/_control/maintenance").json() == {"drop_resolves": False}
    assert [i["status"] for i in incidents(pd)] == ["resolved"]


def test_reset_ends_maintenance(pd: httpx.Client) -> None:
    pd.put("/_control/maintenance", json={"drop_resolves": True})

    pd.post("/_control/reset")

    assert pd.get("/_control/maintenance").json() == {"drop_resolves": False}

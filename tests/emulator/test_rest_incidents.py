"""`GET /incidents`, `/incidents/{id}` and `/incidents/{id}/alerts` over the Events API's
alerts, in PagerDuty's REST API v2 shapes."""

from typing import Any

import httpx
import pytest

from tests.emulator.builders import (
    NOT_FOUND,
    OTHER_ROUTING_KEY,
    ROUTING_KEY,
    acknowledge,
    resolve,
    service,
    trigger,
)


def send(pd: httpx.Client, *events: dict[str, Any]) -> None:
    for event in events:
        pd.post("/v2/enqueue", json=event).raise_for_status()


def listed(pd: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = pd.get("/incidents", params={"date_range": "all", **params})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def keys(pd: httpx.Client, **params: Any) -> list[str]:
    return [incident["incident_key"] for incident in listed(pd, **params)["incidents"]]


def test_an_incident_is_shown_as_pagerduty_shows_it(rest: httpx.Client) -> None:
    rest.put("/_control/services/PSERVICE1", json=service("Runners", ROUTING_KEY))
    send(rest, trigger("pool-eu-1", summary="Runner pool eu-1 is offline"))

    body = listed(rest)

    [incident] = body["incidents"]
    [alert] = rest.get("/_inspect/alerts").json()["alerts"]
    api = str(rest.base_url).rstrip("/")
    web = "https://emulator.pagerduty.invalid"
    assert incident == {
        "id": incident["id"],
        "type": "incident",
        "summary": "[#1] Runner pool eu-1 is offline",
        "self": f"{api}/incidents/{incident['id']}",
        "html_url": f"{web}/incidents/{incident['id']}",
        "incident_number": 1,
        "title": "Runner pool eu-1 is offline",
        "created_at": alert["created_at"],
        "updated_at": alert["updated_at"],
        "status": "triggered",
        "incident_key": "pool-eu-1",
        "service": {
            "id": "PSERVICE1",
            "type": "service_reference",
            "summary": "Runners",
            "self": f"{api}/services/PSERVICE1",
            "html_url": f"{web}/service-directory/PSERVICE1",
        },
        "assignments": [],
        "last_status_change_at": alert["created_at"],
        "resolved_at": None,
        "alert_counts": {"all": 1, "triggered": 1, "resolved": 0},
        "urgency": "high",
    }
    assert {k: body[k] for k in ("limit", "offset", "more", "total")} == {
        "limit": 25,
        "offset": 0,
        "more": False,
        "total": None,
    }


def test_an_incident_follows_its_alert_through_acknowledge_and_resolve(
    rest: httpx.Client,
) -> None:
    send(rest, trigger("pool-eu-1"), acknowledge("pool-eu-1"))
    acknowledged = listed(rest)["incidents"][0]
    send(rest, resolve("pool-eu-1"))
    resolved = listed(rest)["incidents"][0]

    [alert] = rest.get("/_inspect/alerts").json()["alerts"]
    assert (acknowledged["status"], acknowledged["last_status_change_at"]) == (
        "acknowledged",
        alert["acknowledged_at"],
    )
    assert (resolved["status"], resolved["last_status_change_at"], resolved["resolved_at"]) == (
        "resolved",
        alert["resolved_at"],
        alert["resolved_at"],
    )
    assert resolved["alert_counts"] == {"all": 1, "triggered": 0, "resolved": 1}


def test_incidents_are_filtered_by_service_status_and_incident_key(rest: httpx.Client) -> None:
    rest.put("/_control/services/PSERVICE1", json=service("Runners", ROUTING_KEY))
    send(
        rest,
        trigger("a", routing_key=ROUTING_KEY),
        trigger("b", routing_key=ROUTING_KEY),
        acknowledge("b", routing_key=ROUTING_KEY),
        trigger("c", routing_key=OTHER_ROUTING_KEY),
        resolve("c", routing_key=OTHER_ROUTING_KEY),
    )

    assert keys(rest, **{"service_ids[]": "PSERVICE1"}) == ["a", "b"]
    assert keys(rest, **{"service_ids[]": ["PSERVICE1", "PDEFAULT"]}) == ["a", "b", "c"]
    assert keys(rest, **{"service_ids[]": "PNONE"}) == []
    assert keys(rest, **{"statuses[]": ["triggered", "acknowledged"]}) == ["a", "b"]
    assert keys(rest, **{"statuses[]": "resolved"}) == ["c"]
    assert keys(rest, incident_key="b") == ["b"]
    assert keys(rest, incident_key="b", **{"statuses[]": "triggered"}) == []


def test_incidents_are_paged_with_limit_offset_more_and_total(rest: httpx.Client) -> None:
    send(rest, *(trigger(f"k{n}") for n in range(5)))

    first = listed(rest, limit=2)
    last = listed(rest, limit=2, offset=4, total="true")

    assert [i["incident_key"] for i in first["incidents"]] == ["k0", "k1"]
    assert (first["limit"], first["offset"], first["more"], first["total"]) == (2, 0, True, None)
    assert [i["incident_key"] for i in last["incidents"]] == ["k4"]
    assert (last["limit"], last["offset"], last["more"], last["total"]) == (2, 4, False, 5)
    assert [i["incident_number"] for i in listed(rest)["incidents"]] == [1, 2, 3, 4, 5]


def test_a_limit_over_100_is_cut_to_100_and_offset_plus_limit_may_not_pass_10000(
    rest: httpx.Client,
) -> None:
    assert listed(rest, limit=500)["limit"] == 100

    answer = rest.get("/incidents", params={"limit": 100, "offset": 9901})

    assert (answer.status_code, answer.json()) == (
        400,
        {"error": {"message": "Invalid Input Provided", "code": 2001,
                   "errors": ["Offset + limit must not exceed 10000."]}},
    )  # fmt: skip


def test_incidents_are_looked_for_in_the_last_30_days_unless_the_range_is_all(
    rest: httpx.Client,
) -> None:
    send(rest, trigger("recent"))

    default = rest.get("/incidents").json()["incidents"]
    before = rest.get("/incidents", params={"until": "2020-01-02T00:00:00Z"}).json()
    later = rest.get("/incidents", params={"since": "2999-01-01", "until": "2999-02-01"}).json()

    assert [i["incident_key"] for i in default] == ["recent"]
    assert (before["incidents"], later["incidents"]) == ([], [])
    assert keys(rest, until="2020-01-02T00:00:00Z") == ["recent"]  # date_range=all wins


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"statuses[]": "open"}, {"message": "Invalid Input Provided", "code": 2001,
          "errors": ["Status must be a list of triggered, acknowledged, or resolved."]}),
        ({"since": "yesterday"}, {"message":
          "Invalid time values in 'since' and/or 'until' parameters", "code": 2004}),
        ({"since": "2026-01-01T00:00:00Z", "until": "2026-08-01T00:00:00Z"},
         {"message": "Invalid Query Date Range", "code": 2005}),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
         {"message": "Invalid Query Date Range", "code": 2005}),
        ({"limit": "ten"}, {"message": "Invalid Input Provided", "code": 2001,
          "errors": ["Limit must be a non-negative integer."]}),
    ],
)  # fmt: skip
def test_a_bad_parameter_is_answered_400_with_pagerdutys_error(
    rest: httpx.Client, params: dict[str, str], error: dict[str, Any]
) -> None:
    answer = rest.get("/incidents", params=params)

    assert (answer.status_code, answer.json()) == (400, {"error": error})
    assert rest.get("/_inspect/requests").json()["requests"][-1]["outcome"] == "bad_request"


def test_an_incident_is_got_by_id_or_by_number(rest: httpx.Client) -> None:
    send(rest, trigger("pool-eu-1"), trigger("pool-eu-2"))
    [_, second] = listed(rest)["incidents"]

    by_id = rest.get(f"/incidents/{second['id']}")
    by_number = rest.get("/incidents/2")

    assert (by_id.status_code, by_id.json()) == (200, {"incident": second})
    assert by_number.json() == {"incident": second}


def test_an_unknown_incident_is_answered_404(rest: httpx.Client) -> None:
    unknown = rest.get("/incidents/QNOSUCHINCIDENT")
    its_alerts = rest.get("/incidents/QNOSUCHINCIDENT/alerts")

    assert (unknown.status_code, unknown.json()) == (404, NOT_FOUND)
    assert (its_alerts.status_code, its_alerts.json()) == (404, NOT_FOUND)


def test_an_incidents_alert_is_listed_as_pagerduty_lists_it(rest: httpx.Client) -> None:
    event = trigger("pool-eu-1", summary="Runner pool eu-1 is offline", severity="warning")
    event["payload"]["custom_details"] = {"pool": "eu-1"}
    send(rest, event, acknowledge("pool-eu-1"))
    [incident] = listed(rest)["incidents"]

    body = rest.get(f"/incidents/{incident['id']}/alerts").json()

    [inspected] = rest.get("/_inspect/alerts").json()["alerts"]
    api = str(rest.base_url).rstrip("/")
    assert body == {
        "alerts": [
            {
                "id": inspected["id"],
                "type": "alert",
                "summary": "Runner pool eu-1 is offline",
                "self": f"{api}/incidents/{incident['id']}/alerts/{inspected['id']}",
                "html_url": f"https://emulator.pagerduty.invalid/alerts/{inspected['id']}",
                "created_at": inspected["created_at"],
                "status": "triggered",  # an alert is never acknowledged, its incident is
                "alert_key": "pool-eu-1",
                "service": incident["service"],
                "incident": {
                    "id": incident["id"],
                    "type": "incident_reference",
                    "summary": incident["summary"],
                    "self": incident["self"],
                    "html_url": incident["html_url"],
                },
                "suppressed": False,
                "severity": "warning",
                "body": {"type": "alert_body", "contexts": [], "details": {"pool": "eu-1"}},
            }
        ],
        "limit": 25,
        "offset": 0,
        "more": False,
        "total": None,
    }


def test_an_incidents_alerts_are_filtered_by_status_and_counted(rest: httpx.Client) -> None:
    send(rest, trigger("pool-eu-1"), resolve("pool-eu-1"))
    [incident] = listed(rest)["incidents"]
    path = f"/incidents/{incident['id']}/alerts"

    resolved = rest.get(path, params={"statuses[]": "resolved", "total": "true"}).json()
    triggered = rest.get(path, params={"statuses[]": "triggered", "total": "true"}).json()
    acknowledged = rest.get(path, params={"statuses[]": "acknowledged"})

    assert ([a["status"] for a in resolved["alerts"]], resolved["total"]) == (["resolved"], 1)
    assert (triggered["alerts"], triggered["total"]) == ([], 0)
    assert acknowledged.json()["error"]["errors"] == [
        "Status must be a list of triggered or resolved."
    ]


def test_a_service_that_creates_incidents_only_gives_them_no_alerts(rest: httpx.Client) -> None:
    rest.put(
        "/_control/services/PSERVICE1",
        json=service("Runners", ROUTING_KEY, alert_creation="create_incidents"),
    )
    send(rest, trigger("pool-eu-1"))
    [incident] = listed(rest)["incidents"]

    alerts = rest.get(f"/incidents/{incident['id']}/alerts").json()["alerts"]

    assert (incident["alert_counts"], alerts) == ({"all": 0, "triggered": 0, "resolved": 0}, [])


@pytest.mark.parametrize(
    ("rule", "urgencies"),
    [
        ({"type": "constant", "urgency": "high"}, ["high", "high", "high", "high"]),
        ({"type": "constant", "urgency": "low"}, ["low", "low", "low", "low"]),
        ({"type": "constant", "urgency": "severity_based"}, ["high", "high", "low", "low"]),
        ({"type": "use_support_hours",
          "during_support_hours": {"type": "constant", "urgency": "low"},
          "outside_support_hours": {"type": "constant", "urgency": "high"}},
         ["low", "low", "low", "low"]),
        ({"type": "use_support_hours",
          "during_support_hours": {"type": "constant", "urgency": "severity_based"},
          "outside_support_hours": {"type": "constant", "urgency": "low"}},
         ["high", "high", "low", "low"]),
    ],
)  # fmt: skip
def test_an_incidents_urgency_follows_its_services_rule(
    rest: httpx.Client, rule: dict[str, Any], urgencies: list[str]
) -> None:
    rest.put(
        "/_control/services/PSERVICE1",
        json=service("Runners", ROUTING_KEY, incident_urgency_rule=rule),
    )
    send(rest, *(trigger(s, severity=s) for s in ("critical", "error", "warning", "info")))

    assert [i["urgency"] for i in listed(rest)["incidents"]] == urgencies


def test_an_incident_keeps_the_urgency_it_opened_with(rest: httpx.Client) -> None:
    rule = {"type": "constant", "urgency": "severity_based"}
    rest.put(
        "/_control/services/PSERVICE1",
        json=service("Runners", ROUTING_KEY, incident_urgency_rule=rule),
    )
    send(rest, trigger("pool-eu-1", severity="info"), trigger("pool-eu-1", severity="critical"))

    assert [i["urgency"] for i in listed(rest)["incidents"]] == ["low"]

"""`GET /services/{id}`: a configured service, or the implicit PDEFAULT, as PagerDuty shows it."""

import httpx

from tests.emulator.builders import (
    NOT_FOUND,
    OTHER_ROUTING_KEY,
    ROUTING_KEY,
    acknowledge,
    service,
    trigger,
)

WEB = "https://emulator.pagerduty.invalid"
INTEGRATION_ID = "P3EB1BD"  # the first 6 of the sha256 of ROUTING_KEY, not the key


def test_a_service_is_shown_with_its_settings_as_pagerduty_shows_it(rest: httpx.Client) -> None:
    rule = {
        "type": "use_support_hours",
        "during_support_hours": {"type": "constant", "urgency": "high"},
        "outside_support_hours": {"type": "constant", "urgency": "low"},
    }
    rest.put(
        "/_control/services/PSERVICE1",
        json=service(
            "Runners",
            ROUTING_KEY,
            auto_resolve_timeout=14400,
            acknowledgement_timeout=1800,
            alert_grouping_parameters={"type": "intelligent"},
            incident_urgency_rule=rule,
        ),
    )

    answer = rest.get("/services/PSERVICE1")

    api = str(rest.base_url).rstrip("/")
    assert (answer.status_code, answer.json()) == (
        200,
        {
            "service": {
                "id": "PSERVICE1",
                "type": "service",
                "summary": "Runners",
                "self": f"{api}/services/PSERVICE1",
                "html_url": f"{WEB}/service-directory/PSERVICE1",
                "name": "Runners",
                "status": "active",
                "last_incident_timestamp": None,
                "alert_creation": "create_alerts_and_incidents",
                "alert_grouping_parameters": {"type": "intelligent"},
                "auto_resolve_timeout": 14400,
                "acknowledgement_timeout": 1800,
                "incident_urgency_rule": rule,
                "integrations": [
                    {
                        "id": INTEGRATION_ID,
                        "type": "events_api_v2_inbound_integration_reference",
                        "summary": "Events API v2",
                        "self": f"{api}/services/PSERVICE1/integrations/{INTEGRATION_ID}",
                        "html_url": f"{WEB}/services/PSERVICE1/integrations/{INTEGRATION_ID}",
                    }
                ],
                "teams": [],
            }
        },
    )


def test_integrations_are_listed_in_full_with_their_keys_when_included(
    rest: httpx.Client,
) -> None:
    rest.put("/_control/services/PSERVICE1", json=service("Runners", ROUTING_KEY))

    answer = rest.get("/services/PSERVICE1", params={"include[]": "integrations"})

    [integration] = answer.json()["service"]["integrations"]
    assert integration["type"] == "events_api_v2_inbound_integration"
    assert integration["integration_key"] == ROUTING_KEY
    assert integration["service"]["id"] == "PSERVICE1"


def test_a_services_status_is_its_worst_open_incident(rest: httpx.Client) -> None:
    rest.put("/_control/services/PSERVICE1", json=service("Runners", ROUTING_KEY))

    def status() -> str:
        found: str = rest.get("/services/PSERVICE1").json()["service"]["status"]
        return found

    rest.post("/v2/enqueue", json=trigger("a"))
    rest.post("/v2/enqueue", json=trigger("b"))
    critical = status()
    rest.post("/v2/enqueue", json=acknowledge("a"))
    rest.post("/_control/incidents/2/resolve")
    warning = status()
    rest.post("/_control/incidents/1/resolve")

    assert (critical, warning, status()) == ("critical", "warning", "active")


def test_the_implicit_default_service_lists_the_unclaimed_keys_it_was_fed(
    rest: httpx.Client,
) -> None:
    rest.put("/_control/services/PSERVICE1", json=service("Runners", ROUTING_KEY))
    rest.post("/v2/enqueue", json=trigger("a", routing_key=ROUTING_KEY))
    rest.post("/v2/enqueue", json=trigger("b", routing_key=OTHER_ROUTING_KEY))

    answer = rest.get("/services/PDEFAULT", params={"include[]": "integrations"}).json()

    default = answer["service"]
    assert (default["name"], default["status"]) == ("Default Service", "critical")
    assert [i["integration_key"] for i in default["integrations"]] == [OTHER_ROUTING_KEY]
    assert default["incident_urgency_rule"] == {"type": "constant", "urgency": "high"}


def test_an_unknown_service_is_answered_404(rest: httpx.Client) -> None:
    answer = rest.get("/services/PNOSUCH")

    assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    assert rest.get("/_inspect/requests").json()["requests"][-1]["outcome"] == "not_found"

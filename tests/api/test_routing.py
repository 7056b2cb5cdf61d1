"""/api/v1/pagerduty/routing: the whole ordered list, validated, and explaining an event."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
URL = "/api/v1/pagerduty/routing"
CONNECTORS = "/api/v1/pagerduty/connectors"

STAGING_FIRST = [
    {"position": 1, "project": "staging-*", "event_type": None, "connectors": ["pd-staging"]},
    {
        "position": 2,
        "project": None,
        "event_type": "runner_pool.*",
        "connectors": ["pd-production", "pd-staging"],
    },
]
POOL_OFFLINE = {
    "type": "runner_pool.offline",
    "project_slug": "staging-east",
    "data": {"pool_name": "hil-rig-2", "airgapped": True, "last_heartbeat_at": "2026-01-01T00:00Z"},
}


@pytest.fixture
def two(admin: TestClient) -> TestClient:
    """pd-production (default) and pd-staging (not default, capped at warning)."""
    for body in (
        {"name": "pd-production"},
        {"name": "pd-staging", "is_default": False, "max_severity": "warning"},
    ):
        answer = admin.post(CONNECTORS, json={"integration_key": KEY, **body})
        assert answer.status_code == 201, answer.text
    return admin


def test_without_rules_the_routing_is_the_defaults(two: TestClient) -> None:
    answer = two.get(URL)

    assert (answer.status_code, answer.json()) == (
        200,
        {"rules": [], "defaults": ["pd-production"]},
    )


def test_put_saves_the_list_and_answers_it_with_the_defaults(two: TestClient) -> None:
    answer = two.put(URL, json={"rules": STAGING_FIRST})

    expected = {"rules": STAGING_FIRST, "defaults": ["pd-production"]}
    assert (answer.status_code, answer.json()) == (200, expected)
    assert two.get(URL).json() == expected


def test_matchers_left_out_are_null(two: TestClient) -> None:
    answer = two.put(
        URL, json={"rules": [{"position": 1, "project": "a", "connectors": ["pd-staging"]}]}
    )

    assert answer.json()["rules"] == [
        {"position": 1, "project": "a", "event_type": None, "connectors": ["pd-staging"]}
    ]


@pytest.mark.parametrize(
    ("rules", "errors"),
    [
        pytest.param(
            [{"position": 1, "project": "a", "connectors": ["pd-nope"]}],
            ["position 1: no connector named 'pd-nope'"],
            id="unknown connector",
        ),
        pytest.param(
            [{"position": 1, "connectors": ["pd-staging"]}],
            [
                "position 1: matches every event; give a project or an event type (events "
                "that no rule matches go to the default connectors)"
            ],
            id="empty matchers",
        ),
        pytest.param(
            [
                {"position": 1, "project": "a", "connectors": ["pd-staging"]},
                {"position": 1, "project": "b", "connectors": ["pd-production"]},
            ],
            ["position 1: used by 2 rules; positions must be unique"],
            id="duplicate positions",
        ),
        pytest.param(
            [{"position": 1, "event_type": "runner_pool.ofline", "connectors": ["pd-staging"]}],
            [
                "position 1: event_type 'runner_pool.ofline' is not a known event type; did "
                "you mean 'runner_pool.offline'? (a pattern with * ? or [ matches several)"
            ],
            id="unknown event type",
        ),
        pytest.param(
            [{"position": 1, "project": "a", "connectors": []}],
            ["position 1: names no connector; give at least one"],
            id="no connectors",
        ),
        pytest.param(
            [{"position": "first", "project": "a", "connectors": "pd-staging", "colour": 1}],
            [
                "rules.0.position: Input should be a valid integer",
                "rules.0.connectors: Input should be a valid list",
                "rules.0.colour: Extra inputs are not permitted",
            ],
            id="wrong types",
        ),
    ],
)
def test_a_bad_list_is_refused_with_422_and_changes_nothing(
    two: TestClient, rules: list[dict[str, Any]], errors: list[str]
) -> None:
    two.put(URL, json={"rules": STAGING_FIRST})

    answer = two.put(URL, json={"rules": rules})

    assert (answer.status_code, answer.json()) == (
        422,
        {"detail": "; ".join(errors), "errors": errors},
    )
    assert two.get(URL).json()["rules"] == STAGING_FIRST


def test_a_body_without_rules_is_refused(two: TestClient) -> None:
    answer = two.put(URL, json=STAGING_FIRST)

    assert answer.status_code == 422
    assert two.get(URL).json()["rules"] == []


class Matching(str):
    """Equal to any string the pattern matches: for reasons that say how long it has been."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and re.fullmatch(self, other) is not None

    __hash__ = str.__hash__


PAST_15 = Matching(r"offline for \d+ min, past its 15 min threshold")
PAST_60 = Matching(r"offline for \d+ min, past its 60 min threshold")


def test_explain_answers_the_rule_the_connectors_and_what_each_would_page(
    two: TestClient,
) -> None:
    two.put(URL, json={"rules": STAGING_FIRST})

    answer = two.post(f"{URL}/explain", json=POOL_OFFLINE)

    assert (answer.status_code, answer.json()) == (
        200,
        {
            "event": {"project": "staging-east", "event_type": "runner_pool.offline"},
            "rule": STAGING_FIRST[0],
            "connectors": ["pd-staging"],
            "reason": "rule 1 (project 'staging-*', event type any) is the first to match "
            "project 'staging-east' and event type 'runner_pool.offline'",
            "missing": [],
            "notice": None,
            "pages": [
                {
                    "connector": "pd-staging",
                    "rule": "airgapped_pool_offline",
                    "policy": {"answer": "pages", "reason": PAST_15, "at": None},
                    "enabled": True,
                    "severity": "warning",
                    "capped_from": "critical",
                    "sent": True,
                    "paged_at": None,
                    "held": None,
                    "note": "sent as warning (capped from critical)",
                },
                {
                    "connector": "pd-staging",
                    "rule": "pool_offline",
                    "policy": {"answer": "pages", "reason": PAST_60, "at": None},
                    "enabled": True,
                    "severity": "warning",
                    "capped_from": "error",
                    # The critical trigger, capped, paged it at warning a moment before.
                    "sent": False,
                    "paged_at": None,
                    "held": None,
                    "note": "not sent again: pd-staging was already paged at warning",
                },
            ],
        },
    )


def test_explain_says_a_window_would_hold_the_page_and_an_open_incident_is_not_paged_again(
    two: TestClient,
) -> None:
    event = {**POOL_OFFLINE, "project_slug": "warehouse"}
    window = two.post(
        "/api/v1/pagerduty/suppressions",
        json={"connector": "pd-production", "duration_s": 3600, "reason": "Rack move"},
    )
    assert window.status_code == 201, window.text
    window_id = window.json()["suppressions"][0]["id"]

    [held, _] = two.post(f"{URL}/explain", json=event).json()["pages"]

    assert held["held"].startswith(f"suppression #{window_id} until ")
    assert held["note"].startswith("sent as critical; held: suppression #")
    two.post(f"/api/v1/pagerduty/suppressions/{window_id}/end")
    ingested = two.post(
        "/api/v1/events", json={**event, "id": "off-1", "occurred_at": "2026-01-01T00:00:00Z"}
    )
    assert ingested.status_code == 202

    [critical, error] = two.post(f"{URL}/explain", json=event).json()["pages"]

    assert (critical["paged_at"], critical["held"]) == ("critical", None)
    assert critical["note"] == "not sent again: pd-production was already paged at critical"
    assert error["note"] == "not sent again: pd-production was already paged at critical"


def test_explain_of_an_unmatched_event_names_the_defaults(two: TestClient) -> None:
    two.put(URL, json={"rules": STAGING_FIRST})
    event = {**POOL_OFFLINE, "type": "release.published", "project_slug": "warehouse"}

    answer = two.post(f"{URL}/explain", json={**event, "data": {"tag": "v1", "branch": "main"}})

    body = answer.json()
    assert (body["rule"], body["connectors"], body["pages"]) == (None, ["pd-production"], [])
    assert body["reason"] == (
        "no rule matches project 'warehouse' and event type 'release.published': it goes to "
        "the default connectors"
    )


def test_explain_sends_nothing(two: TestClient) -> None:
    two.post(f"{URL}/explain", json={**POOL_OFFLINE, "project_slug": "warehouse"})

    assert two.get("/api/v1/pagerduty/deliveries").json()["deliveries"] == []


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        pytest.param(
            {"type": "runner_pool.offline", "data": {}},
            422,
            "event is invalid: project_slug: is required; data.pool_name: is required",
            id="missing fields",
        ),
        pytest.param([POOL_OFFLINE], 422, "send one event as a JSON object", id="a list"),
        pytest.param(
            {**POOL_OFFLINE, "occurred_at": "2026-05-25T03:00"},
            422,
            "event is invalid: occurred_at: '2026-05-25T03:00' has no timezone; add Z or an "
            "offset such as +02:00",
            id="naive time",
        ),
    ],
)
def test_explain_refuses_a_bad_event(two: TestClient, body: Any, status: int, detail: str) -> None:
    answer = two.post(f"{URL}/explain", json=body)

    assert (answer.status_code, answer.json()["detail"]) == (status, detail)


def test_explain_refuses_a_body_that_is_not_json(two: TestClient) -> None:
    answer = two.post(f"{URL}/explain", content=b"{", headers={"Content-Type": "application/json"})

    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("request body is not valid JSON")


@pytest.mark.parametrize(
    ("method", "path"), [("GET", URL), ("PUT", URL), ("POST", f"{URL}/explain")]
)
def test_an_events_token_may_not_see_or_change_routing(
    client: TestClient, events_token: str, method: str, path: str
) -> None:
    answer = client.request(
        method, path, json={"rules": []}, headers={"Authorization": f"Bearer {events_token}"}
    )

    assert (answer.status_code, answer.json()) == (
        403,
        {"detail": "this token may only post events"},
    )


def test_explain_of_a_misspelt_event_type_says_no_rule_pages_it_and_the_closest_type(
    two: TestClient,
) -> None:
    answer = two.post(f"{URL}/explain", json={**POOL_OFFLINE, "type": "runner_pool.ofline"})

    assert answer.status_code == 200
    assert answer.json()["notice"] == (
        "unknown event type runner_pool.ofline: no rule pages it; did you mean runner_pool.offline?"
    )
    assert answer.json()["pages"] == []

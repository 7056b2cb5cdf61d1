"""The OpenAPI document refuses what the service refuses for its shape: a request the
document allows is one a client may send, so the service must not answer it 422 for a rule
the document could have stated (and schemathesis, reading the document, counts each such
answer as a failure)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

EMAIL = {"name": "ops", "kind": "email", "recipients": ["ops@example.com"]}
EVENT = {
    "id": "evt-1",
    "type": "deploy.finished",
    "project_slug": "warehouse",
    "occurred_at": "2026-05-25T03:00:00Z",
}


def document_allows(client: TestClient, method: str, path: str, body: Any) -> bool:
    document = client.get("/openapi.json").json()
    content = document["paths"][path][method.lower()]["requestBody"]["content"]
    schema = content["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]}).is_valid(body)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/config/plan", {"document": {}}),
        ("POST", "/api/v1/config/apply", {"document": {}}),
        ("POST", "/api/v1/events", {**EVENT, "data": {"a\x00b": 1}}),
        ("POST", "/api/v1/events", {**EVENT, "data": {"nested": [{"a\x00b": 1}]}}),
        ("POST", "/api/v1/events", {**EVENT, "data": {"note": "a\x00b"}}),
        ("POST", "/api/v1/pagerduty/routing/explain", {**EVENT, "data": {"a\x00b": 1}}),
        ("POST", "/api/v1/notify/channels", {**EMAIL, "webhook_url": "https://example.com/x"}),
        ("POST", "/api/v1/notify/channels", {**EMAIL, "recipients": []}),
        ("POST", "/api/v1/notify/channels", {"name": "ops", "kind": "slack"}),
        ("POST", "/api/v1/pagerduty/suppressions", {"reason": "upgrade", "duration_s": 60.0}),
        (
            "POST",
            "/api/v1/pagerduty/suppressions",
            {"connector": "pd", "all_connectors": True, "reason": "upgrade", "duration_s": 60.0},
        ),
        ("POST", "/api/v1/pagerduty/suppressions", {"connector": "pd", "reason": "upgrade"}),
        (
            "PUT",
            "/api/v1/pagerduty/routing",
            {"rules": [{"position": 1, "project": "warehouse", "connectors": [""]}]},
        ),
        ("PUT", "/api/v1/pagerduty/routing", {"rules": [{"position": 1, "connectors": ["pd"]}]}),
        ("PUT", "/api/v1/notify/rules", {"rules": [{"position": 1, "channels": [""]}]}),
    ],
)
def test_what_the_service_refuses_for_its_shape_the_document_refuses(
    admin: TestClient, method: str, path: str, body: Any
) -> None:
    answer = admin.request(method, path, json=body)

    assert answer.status_code == 422
    assert not document_allows(admin, method, path, body)


KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("/api/v1/pagerduty/routing", {"project": "warehouse", "connectors": ["pd"]}),
        ("/api/v1/notify/rules", {"channels": ["ops"]}),
    ],
)
def test_a_whole_number_written_with_a_point_is_a_position(
    admin: TestClient, path: str, rule: dict[str, Any]
) -> None:
    admin.post("/api/v1/pagerduty/connectors", json={"name": "pd", "integration_key": KEY})
    admin.post("/api/v1/notify/channels", json=EMAIL)
    body = {"rules": [{"position": 2.0, **rule}]}

    answer = admin.put(path, json=body)

    assert document_allows(admin, "PUT", path, body)
    assert answer.status_code == 200, answer.text
    assert [{k: r[k] for k in rule} for r in answer.json()["rules"]] == [rule]


def test_a_batch_over_the_limit_is_the_413_the_document_declares_for_it(
    admin: TestClient,
) -> None:
    batch = [{**EVENT, "id": f"evt-{n}", "data": {}} for n in range(1001)]

    answer = admin.post("/api/v1/events", json={"events": batch})

    assert answer.status_code == 413
    assert answer.json()["detail"] == "events: at most 1000 per request, got 1001"
    declared = admin.get("/openapi.json").json()["paths"]["/api/v1/events"]["post"]["responses"]
    assert declared["413"]["description"].startswith("More than 1000 events")

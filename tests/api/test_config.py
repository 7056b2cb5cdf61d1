"""/api/v1/config: export, plan and apply over the API; problems answered with their place."""

import yaml
from fastapi.testclient import TestClient

KEY = "e93facc04764012d7bfb002500d5a1b2"
DOCUMENT = {
    "version": 1,
    "pagerduty": {
        "connectors": [{"name": "pd-production", "key_env": "PD_PRODUCTION_KEY"}],
        "routing": [],
    },
    "chat": {"channels": [], "rules": []},
    "suppressions": [],
}


def test_a_bad_document_is_answered_with_each_problem_and_its_place(admin: TestClient) -> None:
    document = {**DOCUMENT, "version": 2, "suppressions": None}

    answer = admin.post("/api/v1/config/apply", json={"document": document})

    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        {"loc": ["version"], "message": "Input should be 1"},
        {"loc": ["suppressions"], "message": "Input should be a valid list"},
    ]


def test_a_plan_shows_the_key_masked_and_changes_nothing(admin: TestClient) -> None:
    body = {"document": DOCUMENT, "secrets": {"connectors": {"pd-production": KEY}}}

    answer = admin.post("/api/v1/config/plan", json=body)

    assert answer.status_code == 200
    assert KEY not in answer.text
    [change] = answer.json()["changes"]
    assert (change["action"], change["name"], change["fields"][0]) == (
        "create",
        "pd-production",
        {"field": "key", "before": None, "after": "••••••••…a1b2"},
    )
    assert answer.json()["applied"] is False
    assert admin.get("/api/v1/pagerduty/connectors").json() == {"connectors": []}


def test_a_key_the_client_did_not_send_is_a_problem_at_its_reference(admin: TestClient) -> None:
    answer = admin.post("/api/v1/config/apply", json={"document": DOCUMENT})

    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        {
            "loc": ["pagerduty", "connectors", 0, "key_env"],
            "message": "no key was sent for connector 'pd-production'",
        }
    ]


REST_KEY = "u+Rz8pKq3vW9xYb2wxyz"
RECONCILED = {
    **DOCUMENT,
    "pagerduty": {
        "connectors": [
            {
                "name": "pd-production",
                "key_env": "PD_PRODUCTION_KEY",
                "rest_key_env": "PD_PRODUCTION_REST_KEY",
                "service_id": "P1ABCDE",
            }
        ],
        "routing": [],
    },
}


def test_a_rest_key_goes_in_with_the_secrets_and_comes_out_masked(admin: TestClient) -> None:
    secrets = {"connectors": {"pd-production": KEY}, "rest_keys": {"pd-production": REST_KEY}}

    answer = admin.post("/api/v1/config/apply", json={"document": RECONCILED, "secrets": secrets})

    assert answer.status_code == 200
    assert REST_KEY not in answer.text
    [change] = answer.json()["changes"]
    assert change["fields"][1] == {"field": "rest_key", "before": None, "after": "••••••••…wxyz"}
    exported = admin.get("/api/v1/config").json()
    assert REST_KEY not in str(exported)
    assert exported["document"]["pagerduty"]["connectors"][0]["rest_key_env"] == (
        "PD_PRODUCTION_REST_KEY"
    )
    assert {"loc": ["pagerduty", "connectors", 0, "rest_key_env"], "masked": "••••••••…wxyz"} in [
        {"loc": s["loc"], "masked": s["masked"]} for s in exported["secrets"]
    ]


def test_a_rest_key_the_client_did_not_send_is_a_problem_at_its_reference(
    admin: TestClient,
) -> None:
    secrets = {"connectors": {"pd-production": KEY}}

    answer = admin.post("/api/v1/config/apply", json={"document": RECONCILED, "secrets": secrets})

    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        {
            "loc": ["pagerduty", "connectors", 0, "rest_key_env"],
            "message": "no REST API key was sent for connector 'pd-production'",
        }
    ]


def test_what_apply_changes_is_audited_under_the_tokens_name(admin: TestClient) -> None:
    body = {"document": DOCUMENT, "secrets": {"connectors": {"pd-production": KEY}}}

    assert admin.post("/api/v1/config/apply", json=body).status_code == 200
    dry = {**body, "document": {**DOCUMENT, "pagerduty": {"connectors": [], "routing": []}}}
    assert admin.post("/api/v1/config/plan", json=dry).status_code == 200

    entries = admin.get("/api/v1/audit").json()["entries"]
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        ("test", "connector.add", "pd-production")
    ]  # the plan's rolled-back removal left no entry
    assert KEY not in str(entries)


def test_the_yaml_export_reads_back_whatever_a_secret_ends_with(admin: TestClient) -> None:
    channel = {
        "name": "hooks",
        "kind": "webhook",
        "url": "http://127.0.0.1:9/rbtk",
        "signing_secret": "0123456789abcdef\x91\x1b",
    }
    assert admin.post("/api/v1/notify/channels", json=channel).status_code == 201

    exported = admin.get("/api/v1/config", params={"format": "yaml"})

    assert exported.status_code == 200
    assert "…ef\\x91\\x1b (sha256" in exported.text
    assert yaml.safe_load(exported.text)["chat"]["channels"][0]["name"] == "hooks"

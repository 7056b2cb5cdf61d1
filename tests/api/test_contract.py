"""The OpenAPI document is the API's contract: Schemathesis fuzzes every JSON route in-process,
as its command line does (examples, coverage, fuzzing and stateful phases; every check), and
every answer must be one the document declares, in shape, status and content type.

No request leaves the process: the app runs without delivery workers, so nothing is ever sent
to PagerDuty, Slack or SMTP, and the "send test" routes answer their declared 504 after a
shortened wait.
"""

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure
from schemathesis.engine import events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder

from rbtk.api import connectors as connectors_api
from rbtk.api import notify as notify_api
from rbtk.app import create_app
from rbtk.context import Context

MAX_EXAMPLES = 10


# One run, on PostgreSQL: the stricter store (no NUL characters, 32-bit ids), where the fuzzer
# finds what SQLite lets through; one run keeps the test well under a minute.
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_every_answer_is_one_the_openapi_document_declares(
    context: Context, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connectors_api, "TEST_WAIT_S", 0.01)
    monkeypatch.setattr(notify_api, "TEST_WAIT_S", 0.01)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(context, workers=False))
    schema.config.update(headers={"Authorization": f"Bearer {admin_token}"})
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=MAX_EXAMPLES,
        database="none",
        deterministic=True,
    )
    # 502 and 504 are the documented answers of "send test" when the destination fails or is
    # slow (503: storage full); any other 5xx is a server error.
    schema.config.checks.not_a_server_error.expected_statuses = [
        "2xx",
        "3xx",
        "4xx",
        "502",
        "503",
        "504",
    ]
    # 413 (too many events, too large a body) is a rejection as much as 400 and 422 are.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    routes = schema.include(path_regex=r"^/(api/v1/|healthz$|readyz$|metrics$)")

    cases, failures = 0, set()
    for event in from_schema(routes).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            recorder = event.recorder
            cases += len(recorder.cases)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None and not excused(
                        check.failure_info.failure.operation or recorder.label,
                        check.name,
                        check.failure_info.failure.message,
                    ):
                        failure = check.failure_info.failure
                        failures.add(describe(recorder, case_id, check.name, failure))
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.add(f"error: {event!r}")

    print(
        f"schemathesis: {cases} cases, {len(failures)} unique failures", *sorted(failures), sep="\n"
    )
    assert sorted(failures) == []


# Rules no JSON Schema can state, so a schema-valid request can still be refused with a 422
# that names the field: each operation here, and why. Every other check still runs on them.
SEMANTIC_RULES = {
    "PUT /api/v1/pagerduty/routing": "connectors named must exist; a rule must match something",
    "PUT /api/v1/notify/rules": "channels named must exist; positions must be unique",
    "POST /api/v1/pagerduty/connectors": "a rule cannot be both enabled and disabled",
    "PATCH /api/v1/pagerduty/connectors/{name}": "a rule cannot be both enabled and disabled",
    "POST /api/v1/notify/channels": "a webhook URL for slack, recipients' addresses for email",
    "POST /api/v1/pagerduty/suppressions": "ends_at to come, after the start; one of two fields",
    "POST /api/v1/config/plan": "the document as `rbtk admin schema` says; a secret per reference",
    "POST /api/v1/config/apply": "the document as `rbtk admin schema` says; a secret per reference",
    "POST /api/v1/pagerduty/connectors/{name}/reconcile": "the connector needs a REST API key "
    "and a service id",
    "POST /api/v1/pagerduty/connectors/{name}/webhooks": "the connector needs a REST API key "
    "and a service id",
}


# Operations under a created resource whose 404 names something of the request's body, not
# the resource: the fuzzer takes it for the resource gone.
NOT_THE_RESOURCE = {
    "POST /api/v1/pagerduty/connectors/{name}/test/resolve": "no test event with that key",
    "POST /api/v1/pagerduty/connectors/{name}/reconcile/resolve": "no such unknown incident",
}


def excused(operation: str, check: str, message: str = "") -> bool:
    if check == "ensure_resource_availability":
        return any(f"Not available with: `{other}`" in message for other in NOT_THE_RESOURCE)
    return check == "positive_data_acceptance" and operation in SEMANTIC_RULES


def describe(recorder: ScenarioRecorder, case_id: str, check: str, failure: Failure) -> str:
    case = recorder.cases[case_id].value
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    answer = "" if response is None else f"{response.status_code} {response.content[:300]!r}"
    return (
        f"{failure.operation or recorder.label} [{check}] {failure.title}: "
        f"{failure.message[:300]!r} | query={case.query} path={case.path_parameters} "
        f"body={str(case.body)[:300]} -> {answer}"
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/pagerduty/routing"),
        ("POST", "/api/v1/pagerduty/suppressions"),
        ("POST", "/api/v1/events"),
        ("POST", "/api/v1/pagerduty/routing/explain"),
    ],
)
def test_a_body_that_is_not_utf8_is_a_json_400(admin: TestClient, method: str, path: str) -> None:
    answer = admin.request(
        method,
        path,
        content=b'{"rules": ["\xff\xfe"]}',
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.json()) <= {"detail", "errors"}


def test_a_wrong_method_names_every_method_the_path_allows(admin: TestClient) -> None:
    answer = admin.put("/api/v1/pagerduty/connectors/pd-production")

    assert answer.status_code == 405
    assert answer.headers["allow"] == "DELETE, GET, PATCH"
    assert answer.json() == {"detail": "Method Not Allowed"}

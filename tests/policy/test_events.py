"""Inbound events: every known type parses; bad input names the field."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import rbtk.policy.events
from rbtk.policy.events import (
    PAYLOADS,
    Event,
    EventError,
    EvidencePackGenerated,
    EvidencePackGenerationFailed,
    Payload,
    ReleasePublished,
    RunnerPoolOffline,
    RunnerPoolOnline,
    StandardAmendmentPublished,
    Unknown,
    parse_event,
)

WHEN = "2026-05-25T03:00:00Z"
MAY_25 = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)


def raw(event_type: str, data: object, **envelope: object) -> dict[str, Any]:
    return {
        "id": "evt-1",
        "type": event_type,
        "project_slug": "warehouse",
        "occurred_at": WHEN,
        "data": data,
        **envelope,
    }


def errors_of(value: object) -> list[str]:
    with pytest.raises(EventError) as raised:
        parse_event(value)
    return raised.value.errors


KNOWN = [
    pytest.param(
        "runner_pool.offline",
        {
            "pool_name": "onprem-airgapped",
            "pool_type": "self-hosted",
            "airgapped": True,
            "last_heartbeat_at": "2026-05-25T02:43:00Z",
            "queued_jobs": 12,
        },
        RunnerPoolOffline(
            pool_name="onprem-airgapped",
            pool_type="self-hosted",
            airgapped=True,
            last_heartbeat_at=datetime(2026, 5, 25, 2, 43, tzinfo=UTC),
            queued_jobs=12,
        ),
        id="runner_pool.offline",
    ),
    pytest.param(
        "runner_pool.online",
        {"pool_name": "onprem-airgapped"},
        RunnerPoolOnline(pool_name="onprem-airgapped"),
        id="runner_pool.online",
    ),
    pytest.param(
        "release.published",
        {"tag": "v1.4.0", "branch": "main"},
        ReleasePublished(tag="v1.4.0", branch="main"),
        id="release.published",
    ),
    pytest.param(
        "evidence_pack.generation_failed",
        {"release_tag": "v1.4.0", "ref": "refs/tags/v1.4.0", "error": "signing key unavailable"},
        EvidencePackGenerationFailed(
            release_tag="v1.4.0", ref="refs/tags/v1.4.0", error="signing key unavailable"
        ),
        id="evidence_pack.generation_failed",
    ),
    pytest.param(
        "evidence_pack.generation_failed",
        {"release_tag": None, "ref": "refs/heads/main", "error": "timeout"},
        EvidencePackGenerationFailed(release_tag=None, ref="refs/heads/main", error="timeout"),
        id="evidence_pack.generation_failed off a release",
    ),
    pytest.param(
        "evidence_pack.generated",
        {"release_tag": "v1.4.0", "ref": "refs/tags/v1.4.0"},
        EvidencePackGenerated(release_tag="v1.4.0", ref="refs/tags/v1.4.0"),
        id="evidence_pack.generated",
    ),
    pytest.param(
        "test_run.completed",
        {
            "run_id": "run-812",
            "branch": "main",
            "default_branch": True,
            "pull_request": None,
            "status": "failed",
            "tests": [{"id": "nav/test_lidar", "status": "failed"}],
        },
        rbtk.policy.events.TestRunCompleted(
            run_id="run-812",
            branch="main",
            default_branch=True,
            pull_request=None,
            status="failed",
            tests=[rbtk.policy.events.TestResult(id="nav/test_lidar", status="failed")],
        ),
        id="test_run.completed",
    ),
    pytest.param(
        "test_run.completed",
        {
            "run_id": 812,
            "branch": "feature/x",
            "default_branch": False,
            "pull_request": 42,
            "status": "passed",
            "tests": [],
        },
        rbtk.policy.events.TestRunCompleted(
            run_id=812,
            branch="feature/x",
            default_branch=False,
            pull_request=42,
            status="passed",
            tests=[],
        ),
        id="test_run.completed on a pull request with a numeric run id",
    ),
    pytest.param(
        "standard.amendment_published",
        {
            "standard": "ISO-26262",
            "amendment": "A2",
            "title": "Functional safety, second amendment",
            "url": "https://standards.example/iso-26262/a2",
            "pinned": True,
        },
        StandardAmendmentPublished(
            standard="ISO-26262",
            amendment="A2",
            title="Functional safety, second amendment",
            url="https://standards.example/iso-26262/a2",
            pinned=True,
        ),
        id="standard.amendment_published",
    ),
]


@pytest.mark.parametrize(("event_type", "data", "payload"), KNOWN)
def test_each_known_event_type_parses_to_its_typed_payload(
    event_type: str, data: dict[str, Any], payload: Payload
) -> None:
    parsed = parse_event(raw(event_type, data))
    assert parsed == Event(
        id="evt-1", type=event_type, project_slug="warehouse", occurred_at=MAY_25, data=payload
    )
    assert type(parsed.data) is type(payload)


def test_the_envelope_timestamp_is_converted_to_utc() -> None:
    parsed = parse_event(
        raw("runner_pool.online", {"pool_name": "p"}, occurred_at="2026-05-25T05:00:00+02:00")
    )
    assert parsed.occurred_at == MAY_25
    assert parsed.occurred_at.tzinfo is UTC


def test_optional_pool_fields_may_be_left_out() -> None:
    parsed = parse_event(raw("runner_pool.offline", {"pool_name": "build-farm"}))
    assert parsed.data == RunnerPoolOffline(
        pool_name="build-farm",
        pool_type=None,
        airgapped=False,
        last_heartbeat_at=None,
        queued_jobs=None,
    )


def test_fields_the_platform_adds_later_are_kept() -> None:
    parsed = parse_event(raw("runner_pool.online", {"pool_name": "p", "region": "eu-west"}))
    assert parsed.data.model_dump() == {"pool_name": "p", "region": "eu-west"}


@pytest.mark.parametrize(
    "event_type", ["deployment.finished", "runner_pool.degraded", "x", "Runner_Pool.Offline"]
)
def test_unknown_event_types_parse_as_generic_events_keeping_their_data(event_type: str) -> None:
    data = {"anything": [1, {"nested": True}], "pool_name": 5}
    parsed = parse_event(raw(event_type, data))
    assert type(parsed.data) is Unknown
    assert parsed.type == event_type
    assert parsed.data.model_dump() == data


def test_an_unknown_event_type_with_empty_data_parses() -> None:
    assert type(parse_event(raw("anything.else", {})).data) is Unknown


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        pytest.param(
            raw("runner_pool.offline", {"airgapped": True}),
            ["data.pool_name: is required"],
            id="missing data.pool_name",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": "p"}, occurred_at="25/05/2026 03:00"),
            [
                "occurred_at: '25/05/2026 03:00' is not an RFC 3339 timestamp, "
                "e.g. 2026-05-25T03:00:00Z"
            ],
            id="occurred_at not RFC 3339",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": "p"}, occurred_at="2026-05-25T03:00:00"),
            [
                "occurred_at: '2026-05-25T03:00:00' has no timezone; "
                "add Z or an offset such as +02:00"
            ],
            id="naive occurred_at",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": "p"}, occurred_at=1779678000),
            ["occurred_at: must be an RFC 3339 timestamp string, e.g. 2026-05-25T03:00:00Z"],
            id="numeric occurred_at",
        ),
        pytest.param(
            raw(
                "runner_pool.offline",
                {"pool_name": "p", "last_heartbeat_at": "2026-05-25T02:43:00"},
            ),
            [
                "data.last_heartbeat_at: '2026-05-25T02:43:00' has no timezone; "
                "add Z or an offset such as +02:00"
            ],
            id="naive data.last_heartbeat_at",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": "p", "airgapped": "yes"}),
            ["data.airgapped: Input should be a valid boolean"],
            id="airgapped yes",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": "p", "airgapped": 1}),
            ["data.airgapped: Input should be a valid boolean"],
            id="airgapped 1",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": "p", "queued_jobs": "12"}),
            ["data.queued_jobs: Input should be a valid integer"],
            id="queued_jobs as a string",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": "p", "queued_jobs": 10**100}),
            ["data.queued_jobs: Input should be less than or equal to 9007199254740991"],
            id="queued_jobs past what a JSON reader keeps exact",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": "p", "queued_jobs": -1}),
            ["data.queued_jobs: Input should be greater than or equal to 0"],
            id="queued_jobs negative",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": "p", "pool_type": "cloud"}),
            ["data.pool_type: Input should be 'hosted' or 'self-hosted'"],
            id="pool_type outside its values",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": ""}),
            ["data.pool_name: String should have at least 1 character"],
            id="empty pool_name",
        ),
        pytest.param(
            raw("runner_pool.offline", {"pool_name": 7}),
            ["data.pool_name: Input should be a valid string"],
            id="numeric pool_name",
        ),
        pytest.param(
            raw("runner_pool.offline", ["pool_name", "p"]),
            ["data: must be a JSON object"],
            id="data is a list",
        ),
        pytest.param(
            raw("runner_pool.offline", "p"),
            ["data: must be a JSON object"],
            id="data is a string",
        ),
        pytest.param(
            raw("deployment.finished", 3),
            ["data: must be a JSON object"],
            id="unknown type with data that is not an object",
        ),
        pytest.param(
            {k: v for k, v in raw("runner_pool.online", {}).items() if k != "data"},
            ["data: is required"],
            id="data missing",
        ),
        pytest.param(
            raw("runner_pool.online", None),
            ["data: is required"],
            id="data null",
        ),
        pytest.param(
            {"data": {"pool_name": "p"}},
            [
                "id: is required",
                "type: is required",
                "project_slug: is required",
                "occurred_at: is required",
            ],
            id="an empty envelope names every missing field",
        ),
        pytest.param(
            raw("runner_pool.online", {"pool_name": "p"}, id=17),
            ["id: Input should be a valid string"],
            id="numeric id",
        ),
        pytest.param(
            raw("runner_pool.online", {"pool_name": "p"}, id=""),
            ["id: String should have at least 1 character"],
            id="empty id",
        ),
        pytest.param(
            raw("runner_pool.online", {"pool_name": "p"}, type=["runner_pool.online"]),
            ["type: Input should be a valid string"],
            id="type is not a string",
        ),
        pytest.param(
            raw("runner_pool.online", {"pool_name": "p"}, project_slug="ware house"),
            ["project_slug: String should match pattern '^[A-Za-z0-9][A-Za-z0-9._-]*$'"],
            id="project_slug with a space",
        ),
        pytest.param(
            raw("release.published", {"tag": "v1"}),
            ["data.branch: is required"],
            id="release without a branch",
        ),
        pytest.param(
            raw("evidence_pack.generation_failed", {"ref": "r"}),
            ["data.release_tag: is required"],
            id="evidence failure without release_tag",
        ),
        pytest.param(
            raw(
                "test_run.completed",
                {
                    "run_id": "r",
                    "branch": "main",
                    "default_branch": "true",
                    "pull_request": "42",
                    "status": "broken",
                    "tests": [{"id": "t"}, "t2"],
                },
            ),
            [
                "data.default_branch: Input should be a valid boolean",
                "data.pull_request: Input should be a valid integer",
                "data.status: Input should be 'passed' or 'failed'",
                "data.tests.0.status: is required",
                "data.tests.1: Input should be a valid dictionary or instance of TestResult",
            ],
            id="every bad test run field is named, with the index of a bad test",
        ),
        pytest.param(
            raw("test_run.completed", {"run_id": "r", "branch": "main", "status": "passed"}),
            ["data.default_branch: is required"],
            id="test run without default_branch",
        ),
        pytest.param(
            raw(
                "standard.amendment_published",
                {"standard": "ISO-26262", "amendment": "A2", "pinned": "true"},
            ),
            ["data.pinned: Input should be a valid boolean"],
            id="pinned as a string",
        ),
        pytest.param(
            raw("runner_pool.offline", {"airgapped": "no"}, occurred_at="soon"),
            [
                "occurred_at: 'soon' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z",
                "data.pool_name: is required",
                "data.airgapped: Input should be a valid boolean",
            ],
            id="envelope and data errors are reported together",
        ),
    ],
)
def test_a_malformed_event_is_refused_naming_each_bad_field(
    value: object, errors: list[str]
) -> None:
    assert errors_of(value) == errors


@pytest.mark.parametrize(
    ("value", "error"),
    [
        pytest.param([{"id": "evt-1"}], "event: must be a JSON object, got list", id="a list"),
        pytest.param("runner_pool.offline", "event: must be a JSON object, got str", id="a string"),
        pytest.param(None, "event: must be a JSON object, got NoneType", id="null"),
        pytest.param(42, "event: must be a JSON object, got int", id="a number"),
    ],
)
def test_an_event_that_is_not_an_object_is_refused(value: object, error: str) -> None:
    assert errors_of(value) == [error]


def test_the_error_message_joins_every_field_error() -> None:
    with pytest.raises(EventError, match=r"^id: is required; data.pool_name: is required$"):
        parse_event(
            {
                "type": "runner_pool.online",
                "project_slug": "warehouse",
                "occurred_at": WHEN,
                "data": {},
            }
        )


@pytest.mark.parametrize("run_id", [True, 1.5, None, ["r"]])
def test_a_run_id_that_is_neither_a_string_nor_an_integer_is_refused(run_id: object) -> None:
    data = {"run_id": run_id, "branch": "main", "default_branch": True, "status": "passed"}
    assert errors_of(raw("test_run.completed", data)) == [
        "data.run_id.str: Input should be a valid string",
        "data.run_id.int: Input should be a valid integer",
    ]


@pytest.mark.parametrize(("event_type", "data", "payload"), KNOWN)
def test_a_parsed_event_dumps_to_json_that_parses_back_to_the_same_event(
    event_type: str, data: dict[str, Any], payload: Payload
) -> None:
    parsed = parse_event(raw(event_type, data))
    dumped = parsed.model_dump(mode="json")
    assert dumped["data"] == payload.model_dump(mode="json")
    assert parse_event(dumped) == parsed


def test_a_dumped_pool_event_keeps_every_typed_field_and_the_extras() -> None:
    parsed = parse_event(
        raw(
            "runner_pool.offline",
            {
                "pool_name": "onprem-airgapped",
                "airgapped": True,
                "last_heartbeat_at": "2026-05-25T04:43:00+02:00",
                "region": "eu-west",
            },
        )
    )
    assert parsed.model_dump(mode="json") == {
        "id": "evt-1",
        "type": "runner_pool.offline",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T03:00:00Z",
        "data": {
            "pool_name": "onprem-airgapped",
            "pool_type": None,
            "airgapped": True,
            "last_heartbeat_at": "2026-05-25T02:43:00Z",
            "queued_jobs": None,
            "region": "eu-west",
        },
    }


def test_the_readme_example_holds_one_valid_event_of_every_known_type() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("An `events.json` with one event of every known type", 1)[1]
    example = json.loads(block.split("```json", 1)[1].split("```", 1)[0])

    parsed = [parse_event(raw) for raw in example["events"]]

    assert sorted(e.type for e in parsed) == sorted(PAYLOADS)
    assert all(not isinstance(e.data, Unknown) for e in parsed)

"""POST /api/v1/events: single events, batches, and every way a request can be wrong."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from rbtk.app import create_app
from rbtk.context import Context
from tests.factories import add_connector, pool_offline, pool_online

NOW = datetime.now(UTC)


@pytest.fixture
def client(context: Context, events_token: str) -> Iterator[TestClient]:
    with TestClient(create_app(context, workers=False)) as client:
        client.headers["Authorization"] = f"Bearer {events_token}"
        yield client


def test_one_event_is_accepted_with_202(client: TestClient) -> None:
    response = client.post("/api/v1/events", json=pool_offline("e1", NOW))

    assert (response.status_code, response.json()) == (
        202,
        {"index": 0, "id": "e1", "status": "accepted"},
    )


def test_a_repeated_event_is_accepted_and_reported_as_duplicate(client: TestClient) -> None:
    client.post("/api/v1/events", json=pool_offline("e1", NOW))

    response = client.post("/api/v1/events", json=pool_offline("e1", NOW))

    assert (response.status_code, response.json()["status"]) == (202, "duplicate")


def test_a_malformed_event_gets_a_422_naming_the_field(client: TestClient) -> None:
    bad = pool_offline("e1", NOW)
    del bad["data"]["pool_name"]
    bad["occurred_at"] = "2026-05-25 02:00"

    response = client.post("/api/v1/events", json=bad)

    assert response.status_code == 422
    assert response.json() == {
        "detail": "event is invalid: occurred_at: '2026-05-25 02:00' has no timezone; add Z "
        "or an offset such as +02:00; data.pool_name: is required",
        "errors": [
            "occurred_at: '2026-05-25 02:00' has no timezone; add Z or an offset such as +02:00",
            "data.pool_name: is required",
        ],
    }


def test_a_batch_answers_per_event_and_keeps_the_valid_ones(
    client: TestClient, context: Context
) -> None:
    add_connector(context, now=NOW)
    batch = [
        pool_offline("e1", NOW - timedelta(hours=2), "a"),
        {"id": "e2", "type": "runner_pool.offline"},
        pool_offline("e1", NOW, "a"),
        pool_online("e3", NOW, "a"),
    ]

    response = client.post("/api/v1/events", json={"events": batch})

    assert response.status_code == 200
    assert response.json() == {
        "accepted": 2,
        "duplicate": 1,
        "rejected": 1,
        "results": [
            {"index": 0, "id": "e1", "status": "accepted"},
            {
                "index": 1,
                "id": "e2",
                "status": "rejected",
                "errors": [
                    "project_slug: is required",
                    "occurred_at: is required",
                    "data: is required",
                ],
            },
            {"index": 2, "id": "e1", "status": "duplicate"},
            {"index": 3, "id": "e3", "status": "accepted"},
        ],
    }


def test_an_unknown_event_type_is_accepted(client: TestClient) -> None:
    event = {
        "id": "x1",
        "type": "project.renamed",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T02:00:00Z",
        "data": {"anything": [1, 2]},
    }

    assert client.post("/api/v1/events", json=event).json()["status"] == "accepted"


def test_a_misspelt_event_type_is_accepted_with_a_notice_naming_the_closest_type(
    client: TestClient,
) -> None:
    event = {
        "id": "x1",
        "type": "runner_pool.ofline",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T02:00:00Z",
        "data": {"pool_name": "build-farm"},
    }

    one = client.post("/api/v1/events", json=event)
    batch = client.post("/api/v1/events", json={"events": [{**event, "id": "x2"}]})

    notice = (
        "unknown event type runner_pool.ofline: no rule pages it; did you mean runner_pool.offline?"
    )
    assert (one.status_code, one.json()) == (
        202,
        {"index": 0, "id": "x1", "status": "accepted", "notice": notice},
    )
    assert batch.json()["results"] == [
        {"index": 0, "id": "x2", "status": "accepted", "notice": notice}
    ]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "detail"),
    [
        (b"{not json", "application/json", 400, "request body is not valid JSON"),
        (b"id=1", "application/x-www-form-urlencoded", 415, "send JSON with"),
        (b"[]", "application/json", 422, "events: the list is empty"),
        (b'"text"', "application/json", 422, "send one event object"),
        (b"{}" + b" " * 5_000_001, "application/json", 413, "request body is over"),
    ],
    ids=["not-json", "form", "empty-list", "string", "too-large"],
)
def test_a_bad_request_gets_a_clear_4xx(
    client: TestClient, content: bytes, content_type: str, status: int, detail: str
) -> None:
    response = client.post(
        "/api/v1/events", content=content, headers={"Content-Type": content_type}
    )

    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)


def test_a_batch_over_1000_events_is_refused(client: TestClient) -> None:
    batch = [pool_offline(f"e{i}", NOW, f"p{i}") for i in range(1001)]

    response = client.post("/api/v1/events", json={"events": batch})

    assert response.status_code == 413
    assert response.json() == {"detail": "events: at most 1000 per request, got 1001"}


def _batch_with(bad: dict[str, object]) -> dict[str, object]:
    return {"events": [pool_offline("good-1", NOW, "a"), bad, pool_online("good-2", NOW, "b")]}


def _results(response: httpx.Response) -> list[tuple[str, list[str]]]:
    assert response.status_code == 200, response.text
    return [(r["status"], r.get("errors", [])) for r in response.json()["results"]]


def test_an_event_nested_5000_deep_is_rejected_alone_naming_data(client: TestClient) -> None:
    bad = pool_offline("deep", NOW, "c")
    bad["data"]["extra"] = "[" * 5000 + "]" * 5000  # replaced below by real nesting
    content = json.dumps(_batch_with(bad)).replace(
        json.dumps(bad["data"]["extra"]), "[" * 5000 + "]" * 5000
    )

    response = client.post(
        "/api/v1/events", content=content, headers={"Content-Type": "application/json"}
    )

    results = _results(response)
    assert [status for status, _ in results] == ["accepted", "rejected", "accepted"]
    assert results[1][1] == ["data.extra: nests deeper than 32 levels"]


@pytest.mark.both_databases  # PostgreSQL's own limits: its timestamp range
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_at", "0001-01-01T00:00+01:00"),
        ("occurred_at", "9999-12-31T23:59:59-01:00"),
        ("occurred_at", "9999-12-31T23:59Z"),
        ("data.last_heartbeat_at", "0001-01-01T00:00+01:00"),
    ],
)
def test_a_timestamp_at_the_datetime_limits_is_rejected_alone_naming_it(
    client: TestClient, field: str, value: str
) -> None:
    bad = pool_offline("limit", NOW, "c")
    if field == "occurred_at":
        bad["occurred_at"] = value
    else:
        bad["data"]["last_heartbeat_at"] = value

    results = _results(client.post("/api/v1/events", json=_batch_with(bad)))

    assert [status for status, _ in results] == ["accepted", "rejected", "accepted"]
    assert len(results[1][1]) == 1
    assert results[1][1][0].startswith(f"{field}: {value!r} is outside the supported range")


@pytest.mark.both_databases  # PostgreSQL's own limits: no NUL in text
@pytest.mark.parametrize("field", ["id", "type", "data.pool_name", "data.note"])
def test_a_nul_character_is_rejected_alone_naming_the_field(
    client: TestClient, context: Context, field: str
) -> None:
    bad = pool_offline("nul", NOW, "c")
    if field.startswith("data."):
        bad["data"][field.removeprefix("data.")] = "onprem\x00x"
    else:
        bad[field] = "nul\x00" if field == "id" else "runner_pool.offline\x00"

    results = _results(client.post("/api/v1/events", json=_batch_with(bad)))

    assert [status for status, _ in results] == ["accepted", "rejected", "accepted"]
    assert results[1][1] == [f"{field}: must not contain a NUL character"]


@pytest.mark.both_databases  # PostgreSQL's own limits: UTF-8 only
@pytest.mark.parametrize("field", ["id", "data.pool_name", "data.note", "data.a key"])
def test_a_lone_surrogate_is_rejected_alone_naming_the_field(
    client: TestClient, context: Context, field: str
) -> None:
    # "\ud800" is valid JSON but not Unicode: no database stores it, no body can carry it.
    bad = pool_offline("lone", NOW, "c")
    if field == "data.a key":
        bad["data"]["x\ud800"] = "y"
    elif field.startswith("data."):
        bad["data"][field.removeprefix("data.")] = "onprem\ud800x"
    else:
        bad[field] = "lone\ud800"
    content = json.dumps(_batch_with(bad))  # ASCII, with the surrogate escaped as JSON allows

    results = _results(
        client.post("/api/v1/events", content=content, headers={"Content-Type": "application/json"})
    )

    assert [status for status, _ in results] == ["accepted", "rejected", "accepted"]
    problem = "must not contain a lone surrogate (\\ud800-\\udfff): it is not Unicode text"
    expected = "data: a key " + problem if field == "data.a key" else f"{field}: {problem}"
    assert results[1][1] == [expected]

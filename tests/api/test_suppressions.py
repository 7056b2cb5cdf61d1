"""/api/v1/pagerduty/suppressions: windows with who, when and why; ending them early."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rbtk.access import tokens
from rbtk.context import Context
from rbtk.runtime.timefmt import format_rfc3339

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
URL = "/api/v1/pagerduty/suppressions"
TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"


def minutes_z(moment: datetime) -> str:
    """The documented form: minutes and Z, no seconds (2026-05-25T03:00Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


NOW = datetime.now(UTC)
TOMORROW = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)


@pytest.fixture
def wakes(context: Context) -> list[str]:
    woken: list[str] = []
    context.wake_scheduler = lambda: woken.append("scheduler")
    return woken


@pytest.fixture
def two(admin: TestClient) -> TestClient:
    for name in ("pd-production", "pd-staging"):
        answer = admin.post(
            "/api/v1/pagerduty/connectors", json={"name": name, "integration_key": KEY}
        )
        assert answer.status_code == 201, answer.text
    return admin


def window(two: TestClient, **body: Any) -> dict[str, Any]:
    answer = two.post(URL, json={"connector": "pd-production", "reason": "Maintenance"} | body)
    assert answer.status_code == 201, answer.text
    [created] = answer.json()["suppressions"]
    return dict(created)


def test_a_window_in_the_documented_form_answers_201_with_who_when_and_why(
    two: TestClient, wakes: list[str]
) -> None:
    before = datetime.now(UTC)

    answer = two.post(
        URL,
        json={
            "connector": "pd-production",
            "ends_at": minutes_z(TOMORROW),
            "reason": "Maintenance",
        },
    )

    assert answer.status_code == 201
    [created] = answer.json()["suppressions"]
    assert {k: v for k, v in created.items() if k not in ("starts_at", "created_at")} == {
        "id": 1,
        "connector": "pd-production",
        "state": "active",
        "ends_at": format_rfc3339(TOMORROW),
        "reason": "Maintenance",
        "created_by": "test",  # the name of the token that asked
        "ended_early_at": None,
        "ended_by": None,
        "released_at": None,
    }
    assert created["starts_at"] == created["created_at"]
    assert datetime.fromisoformat(created["created_at"]) >= before
    assert wakes == ["scheduler"]


def test_a_window_can_be_given_a_start_and_a_duration(two: TestClient) -> None:
    created = window(two, starts_at=format_rfc3339(TOMORROW), duration_s=7200)

    assert (created["state"], created["starts_at"], created["ends_at"]) == (
        "scheduled",
        format_rfc3339(TOMORROW),
        format_rfc3339(TOMORROW + timedelta(hours=2)),
    )


def test_all_connectors_answer_one_window_each(two: TestClient) -> None:
    answer = two.post(
        URL, json={"all_connectors": True, "duration_s": 60, "reason": "Datacentre move"}
    )

    assert answer.status_code == 201
    assert [(w["id"], w["connector"]) for w in answer.json()["suppressions"]] == [
        (1, "pd-production"),
        (2, "pd-staging"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        pytest.param(
            {"ends_at": "2026-05-25T03:00"},
            422,
            "ends_at: '2026-05-25T03:00' has no timezone; add Z or an offset such as +02:00",
            id="naive time",
        ),
        pytest.param(
            {"ends_at": "tomorrow"},
            422,
            "ends_at: 'tomorrow' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z",
            id="not a time",
        ),
        pytest.param(
            {"ends_at": "2020-01-01T00:00Z"},
            422,
            "ends_at: 2020-01-01T00:00:00Z is in the past",
            id="end in the past",
        ),
        pytest.param(
            {"ends_at": minutes_z(TOMORROW), "starts_at": minutes_z(TOMORROW + timedelta(hours=1))},
            422,
            f"ends_at: {format_rfc3339(TOMORROW)} is not after the start, "
            f"{format_rfc3339(TOMORROW + timedelta(hours=1))}; a window must end after it starts",
            id="end before start",
        ),
        pytest.param(
            {"ends_at": minutes_z(TOMORROW), "duration_s": 60},
            422,
            "give ends_at or duration_s, not both",
            id="end and duration",
        ),
        pytest.param({}, 422, "give ends_at, or duration_s: how long from the start", id="no end"),
        pytest.param(
            {"duration_s": 0}, 422, "duration_s: Input should be greater than 0", id="no duration"
        ),
        pytest.param(
            {"duration_s": 60, "reason": " "},
            422,
            "reason: must not be empty; say why, e.g. 'Maintenance'",
            id="blank reason",
        ),
        pytest.param(
            {"duration_s": 60, "connector": "pd-nope"},
            404,
            "no connector named 'pd-nope'",
            id="unknown connector",
        ),
        pytest.param(
            {"duration_s": 60, "all_connectors": True},
            422,
            "give a connector or all connectors, not both",
            id="connector and all",
        ),
        pytest.param(
            {"duration_s": 60, "connector": None},
            422,
            "give the connector to suppress, or all connectors",
            id="no connector",
        ),
        pytest.param(
            {"duration_s": 60, "colour": "red"},
            422,
            "colour: Extra inputs are not permitted",
            id="unknown field",
        ),
    ],
)
def test_a_bad_window_is_refused_and_nothing_is_created(
    two: TestClient, wakes: list[str], body: dict[str, Any], status: int, detail: str
) -> None:
    answer = two.post(URL, json={"connector": "pd-production", "reason": "Maintenance"} | body)

    assert answer.status_code == status
    assert answer.json()["detail"].startswith(detail)
    assert two.get(URL, params={"include_ended": "true"}).json() == {"suppressions": []}
    assert wakes == []


def test_a_missing_reason_is_refused(two: TestClient) -> None:
    answer = two.post(URL, json={"connector": "pd-production", "duration_s": 60})

    assert (answer.status_code, answer.json()["errors"]) == (422, ["reason: Field required"])


def test_the_list_holds_open_windows_unless_ended_ones_are_asked_for(two: TestClient) -> None:
    kept = window(two, duration_s=3600)
    ended = window(two, duration_s=3600, connector="pd-staging")
    two.post(f"{URL}/{ended['id']}/end")

    open_only = two.get(URL).json()["suppressions"]
    everything = two.get(URL, params={"include_ended": "true"}).json()["suppressions"]

    assert [w["id"] for w in open_only] == [kept["id"]]
    assert [(w["id"], w["state"]) for w in everything] == [
        (ended["id"], "ended"),
        (kept["id"], "active"),
    ]


def test_the_list_can_hold_one_connectors_windows(two: TestClient) -> None:
    window(two, duration_s=60)
    staging = window(two, duration_s=60, connector="pd-staging")

    answer = two.get(URL, params={"connector": "pd-staging"})

    assert [w["id"] for w in answer.json()["suppressions"]] == [staging["id"]]


def test_listing_an_unknown_connector_is_404(two: TestClient) -> None:
    answer = two.get(URL, params={"connector": "pd-nope"})

    assert (answer.status_code, answer.json()) == (404, {"detail": "no connector named 'pd-nope'"})


def test_one_window_is_shown_by_id(two: TestClient) -> None:
    created = window(two, duration_s=60)

    answer = two.get(f"{URL}/{created['id']}")

    assert (answer.status_code, answer.json()) == (200, created)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_window_is_404(two: TestClient, method: str) -> None:
    path = f"{URL}/42" if method == "GET" else f"{URL}/42/end"

    answer = two.request(method, path)

    assert (answer.status_code, answer.json()) == (404, {"detail": "no suppression window #42"})


def test_a_window_id_that_is_not_a_number_is_422(two: TestClient) -> None:
    answer = two.get(f"{URL}/latest")

    assert answer.status_code == 422


def test_ending_early_answers_the_ended_window_and_wakes_the_scheduler(
    two: TestClient, wakes: list[str]
) -> None:
    created = window(two, ends_at=minutes_z(TOMORROW))

    answer = two.post(f"{URL}/{created['id']}/end")

    ended = answer.json()
    assert (answer.status_code, ended["state"]) == (200, "ended")
    assert ended["ended_early_at"] == ended["ends_at"]
    assert datetime.fromisoformat(ended["ends_at"]) < TOMORROW
    assert wakes == ["scheduler", "scheduler"]


def test_ending_early_records_the_name_of_the_token_that_ended_it(
    two: TestClient, context: Context
) -> None:
    created = window(two, duration_s=3600)  # opened by the token named "test"
    with context.engine.begin() as connection:
        _, alice = tokens.create(connection, scope=tokens.Scope.ADMIN, name="alice", now=NOW)

    answer = two.post(f"{URL}/{created['id']}/end", headers={"Authorization": f"Bearer {alice}"})

    assert (answer.status_code, answer.json()["ended_by"]) == (200, "alice")
    shown = two.get(URL, params={"include_ended": "true"}).json()["suppressions"]
    assert [(w["created_by"], w["ended_by"]) for w in shown] == [("test", "alice")]


def test_ending_a_window_twice_is_409_and_changes_nothing(
    two: TestClient, wakes: list[str]
) -> None:
    created = window(two, duration_s=60)
    ended = two.post(f"{URL}/{created['id']}/end").json()

    again = two.post(f"{URL}/{created['id']}/end")

    assert (again.status_code, again.json()) == (
        409,
        {"detail": f"suppression window #{created['id']} already ended at {ended['ends_at']}"},
    )
    assert two.get(f"{URL}/{created['id']}").json() == ended
    assert wakes == ["scheduler", "scheduler"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", URL), ("POST", URL), ("GET", f"{URL}/1"), ("POST", f"{URL}/1/end")],
)
def test_an_events_token_may_not_see_or_change_windows(
    client: TestClient, events_token: str, method: str, path: str
) -> None:
    answer = client.request(
        method, path, json={}, headers={"Authorization": f"Bearer {events_token}"}
    )

    assert (answer.status_code, answer.json()) == (
        403,
        {"detail": "this token may only post events"},
    )


@pytest.mark.both_databases  # PostgreSQL's own limits: 32-bit INTEGER ids
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{URL}/{2**63}"),
        ("POST", f"{URL}/{2**63}/end"),
        ("GET", f"{URL}/{2**31}"),  # past PostgreSQL's INTEGER
    ],
)
def test_a_window_id_above_2_63_is_a_422_naming_it(two: TestClient, method: str, path: str) -> None:
    answer = two.request(method, path)

    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("path.window_id: ")


@pytest.mark.both_databases  # PostgreSQL's own limits: no NUL in text
def test_a_window_created_with_a_nul_in_its_reason_is_a_422_naming_it(two: TestClient) -> None:
    answer = two.post(
        URL, json={"connector": "pd-production", "reason": "a\x00b", "duration_s": 60}
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == ["reason: must not contain a NUL character"]

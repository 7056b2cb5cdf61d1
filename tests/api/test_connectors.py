"""/api/v1/pagerduty/connectors: the connector JSON, status codes, and the key never shown."""

import logging
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.store.tables import metadata
from tests.conftest import production_test_send_wait

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
NEW_KEY = "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4"
URL = "/api/v1/pagerduty/connectors"
TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"

ALL_RULES_DEFAULT = {
    "evidence_pack_failed": True,
    "airgapped_pool_offline": True,
    "pool_offline": True,
    "post_release_regression": True,
    "standard_amendment": False,
}


def connector_json(**fields: Any) -> dict[str, Any]:
    return {
        "name": "pd-production",
        "integration_key": "••••••••…a1b2",
        "region": "us",
        "endpoint": "http://127.0.0.1:9/v2/enqueue",
        "rules": ALL_RULES_DEFAULT,
        "send_info": False,
        "change_events": True,
        "is_default": True,
        "max_severity": None,
        "storm": {"collapse": True, "threshold": 20, "window_s": 60},
        "rest_key": None,
        "service_id": None,
        "repage_resolved_by_hand": False,
        "verified_at": None,
        "verified_urgency": None,
        "open_incidents": 0,
        "last_delivery": None,
        **fields,
    }


def without_times(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in ("created_at", "updated_at")}


def failed_evidence_pack(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "evidence_pack.generation_failed",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T03:00:00Z",
        "data": {"release_tag": "v1.4.0"},
    }


def test_adding_a_connector_answers_201_with_the_connector_and_the_key_masked(
    admin: TestClient,
) -> None:
    answer = admin.post(URL, json={"name": "pd-production", "integration_key": KEY})

    assert answer.status_code == 201
    body = answer.json()
    assert without_times(body) == connector_json()
    assert body["created_at"] == body["updated_at"]
    assert datetime.fromisoformat(body["created_at"]).tzinfo is UTC


def test_adding_with_every_option_answers_them(admin: TestClient) -> None:
    answer = admin.post(
        URL,
        json={
            "name": "pd-eu",
            "integration_key": KEY,
            "enable": ["standard_amendment"],
            "disable": ["runner_pool.offline"],
            "region": "eu",
            "send_info": True,
            "change_events": False,
            "is_default": False,
        },
    )

    assert answer.status_code == 201
    assert without_times(answer.json()) == connector_json(
        name="pd-eu",
        region="eu",
        endpoint="https://events.eu.pagerduty.com/v2/enqueue",
        rules={
            "evidence_pack_failed": True,
            "airgapped_pool_offline": False,
            "pool_offline": False,
            "post_release_regression": True,
            "standard_amendment": True,
        },
        send_info=True,
        change_events=False,
        is_default=False,
    )


def test_a_rest_api_key_is_refused_with_422_saying_what_it_looks_like(admin: TestClient) -> None:
    answer = admin.post(
        URL, json={"name": "pd-production", "integration_key": "y_NbAkKc66ryYTWUXYEu"}
    )

    message = (
        "this looks like a REST API key (20 characters): the Events API needs the 32-character "
        "Integration Key instead; copy the Integration Key from the service's Events API v2 "
        "integration in PagerDuty"
    )
    assert (answer.status_code, answer.json()) == (422, {"detail": message, "errors": [message]})
    assert admin.get(URL).json() == {"connectors": []}


def test_a_bad_name_is_refused_with_422(admin: TestClient) -> None:
    answer = admin.post(URL, json={"name": "PD Prod", "integration_key": KEY})

    message = (
        "name: 'PD Prod' is not a lower-case slug: use a-z, 0-9 and '-', starting with a "
        "letter or digit, e.g. 'pd-production'"
    )
    assert (answer.status_code, answer.json()) == (422, {"detail": message, "errors": [message]})


def test_a_duplicate_name_is_refused_with_409(admin: TestClient) -> None:
    admin.post(URL, json={"name": "pd-production", "integration_key": KEY})

    answer = admin.post(URL, json={"name": "pd-production", "integration_key": NEW_KEY})

    assert (answer.status_code, answer.json()) == (
        409,
        {"detail": "a connector named 'pd-production' already exists"},
    )


def test_unknown_fields_and_wrong_types_are_refused_with_422(admin: TestClient) -> None:
    answer = admin.post(
        URL,
        json={"name": "pd-production", "integration_key": 7, "region": "ap", "colour": "red"},
    )

    assert answer.status_code == 422
    assert sorted(answer.json()["errors"]) == [
        "colour: Extra inputs are not permitted",
        "integration_key: Input should be a valid string",
        "region: Input should be 'us' or 'eu'",
    ]


def test_connectors_are_listed_and_shown(admin: TestClient) -> None:
    admin.post(URL, json={"name": "pd-staging", "integration_key": NEW_KEY})
    admin.post(URL, json={"name": "pd-production", "integration_key": KEY})

    listed = admin.get(URL)
    shown = admin.get(f"{URL}/pd-staging")

    assert listed.status_code == 200
    assert [without_times(c) for c in listed.json()["connectors"]] == [
        connector_json(),
        connector_json(name="pd-staging", integration_key="••••••••…L5k4"),
    ]
    assert shown.status_code == 200
    assert without_times(shown.json()) == connector_json(
        name="pd-staging", integration_key="••••••••…L5k4"
    )


def test_an_unknown_connector_is_404_on_every_route(admin: TestClient) -> None:
    answers = [
        admin.get(f"{URL}/pd-nowhere"),
        admin.patch(f"{URL}/pd-nowhere", json={"send_info": True}),
        admin.delete(f"{URL}/pd-nowhere"),
        admin.post(f"{URL}/pd-nowhere/test"),
    ]

    assert [(a.status_code, a.json()) for a in answers] == [
        (404, {"detail": "no connector named 'pd-nowhere'"})
    ] * 4


def test_patch_changes_toggles_region_key_and_flags(admin: TestClient) -> None:
    admin.post(URL, json={"name": "pd-production", "integration_key": KEY})

    answer = admin.patch(
        f"{URL}/pd-production",
        json={
            "integration_key": NEW_KEY,
            "enable": ["standard_amendment"],
            "disable": ["evidence_pack.generation_failed"],
            "region": "eu",
            "send_info": True,
            "change_events": False,
            "is_default": False,
        },
    )

    assert answer.status_code == 200
    assert without_times(answer.json()) == connector_json(
        integration_key="••••••••…L5k4",
        region="eu",
        endpoint="https://events.eu.pagerduty.com/v2/enqueue",
        rules=ALL_RULES_DEFAULT | {"evidence_pack_failed": False, "standard_amendment": True},
        send_info=True,
        change_events=False,
        is_default=False,
    )


def test_an_empty_patch_changes_nothing(admin: TestClient) -> None:
    added = admin.post(URL, json={"name": "pd-production", "integration_key": KEY}).json()

    answer = admin.patch(f"{URL}/pd-production", json={})

    assert (answer.status_code, answer.json()) == (200, added)


def test_patch_refuses_a_bad_key_with_422_and_keeps_the_old_one(admin: TestClient) -> None:
    admin.post(URL, json={"name": "pd-production", "integration_key": KEY})

    answer = admin.patch(f"{URL}/pd-production", json={"integration_key": NEW_KEY + "!"})

    message = (
        "the integration key has 33 characters, including 1 symbol character: expected "
        "exactly 32 letters and digits, the Integration Key from the service's Events API v2 "
        "integration in PagerDuty"
    )
    assert (answer.status_code, answer.json()) == (422, {"detail": message, "errors": [message]})
    assert admin.get(f"{URL}/pd-production").json()["integration_key"] == "••••••••…a1b2"


def test_patch_refuses_the_name_field(admin: TestClient) -> None:
    admin.post(URL, json={"name": "pd-production", "integration_key": KEY})

    answer = admin.patch(f"{URL}/pd-production", json={"name": "pd-other"})

    assert (answer.status_code, answer.json()["errors"]) == (
        422,
        ["name: Extra inputs are not permitted"],
    )


def test_delete_answers_204_and_the_connector_is_gone(admin: TestClient) -> None:
    admin.post(URL, json={"name": "pd-production", "integration_key": KEY})

    answer = admin.delete(f"{URL}/pd-production")

    assert (answer.status_code, answer.content) == (204, b"")
    assert admin.get(f"{URL}/pd-production").status_code == 404


def test_delete_is_refused_with_409_while_incidents_are_open_unless_forced(
    admin: TestClient, context: Context
) -> None:
    admin.post(URL, json={"name": "pd-production", "integration_key": KEY})
    ingest(context, [failed_evidence_pack("e1")], datetime.now(UTC))

    refused = admin.delete(f"{URL}/pd-production")
    shown = admin.get(f"{URL}/pd-production").json()
    forced = admin.delete(f"{URL}/pd-production", params={"force": "true"})

    assert (refused.status_code, refused.json()) == (
        409,
        {
            "detail": "connector 'pd-production' still has 1 open incident: wait until it "
            "resolves, or remove it with force (rbtk then forgets them and never sends their "
            "resolves)"
        },
    )
    assert (shown["open_incidents"], shown["last_delivery"]["status"]) == (1, "queued")
    assert forced.status_code == 204
    assert admin.get(URL).json() == {"connectors": []}


def test_the_test_route_answers_202_with_the_queued_row_when_nothing_sends_it_yet(
    admin: TestClient, context: Context
) -> None:
    production_test_send_wait(context)
    admin.post(URL, json={"name": "pd-production", "integration_key": KEY})  # no workers here

    answer = admin.post(f"{URL}/pd-production/test", json={"resolve_after_s": 60})

    assert answer.status_code == 202
    queued = answer.json()
    assert queued["detail"] == (
        "the test event is queued: PagerDuty has not answered yet; it is sent when delivery "
        "gets to it (see the delivery log)"
    )
    assert (queued["status"], queued["attempts"], queued["http_status"]) == ("queued", 0, None)
    assert queued["resolve"]["delivery_id"] == queued["delivery_id"] + 1
    followed = admin.get(f"/api/v1/pagerduty/deliveries/{queued['delivery_id']}").json()
    assert (followed["id"], followed["status"]) == (queued["delivery_id"], "queued")


def test_the_test_route_refuses_a_bad_resolve_after(admin: TestClient) -> None:
    admin.post(URL, json={"name": "pd-production", "integration_key": KEY})

    answer = admin.post(f"{URL}/pd-production/test", json={"resolve_after_s": 0})

    assert (answer.status_code, answer.json()["errors"]) == (
        422,
        ["resolve_after_s: Input should be greater than 0"],
    )


def test_nothing_the_service_writes_holds_the_clear_key(
    context: Context,
    service: str,
    emulator: str,
    admin_token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    responses: list[httpx.Response] = []
    with httpx.Client(
        base_url=service, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30
    ) as api:

        def call(method: str, path: str, **options: Any) -> httpx.Response:
            response = api.request(method, path, **options)
            responses.append(response)
            return response

        call("POST", URL, json={"name": "pd-production", "integration_key": KEY})
        call("POST", URL, json={"name": "pd-production", "integration_key": KEY})
        call("POST", URL, json={"name": "pd-other", "integration_key": KEY + "x"})
        call("POST", URL, json={"name": "pd-other", "integration_key": KEY[:20]})
        call("POST", URL, json={"name": "Bad Name", "integration_key": KEY})
        call("POST", URL, json={"name": "pd-x", "integration_key": KEY, "other": KEY})
        call("GET", URL)
        call("GET", f"{URL}/pd-production")
        call("POST", f"{URL}/pd-production/test")
        call("POST", "/api/v1/events", json=failed_evidence_pack("e1"))
        wait_for_alerts(emulator, 2)
        call("PATCH", f"{URL}/pd-production", json={"integration_key": NEW_KEY})
        call("PATCH", f"{URL}/pd-production", json={"integration_key": KEY[:16] + " " + KEY[17:]})
        call("GET", "/api/v1/pagerduty/deliveries")
        call("GET", "/metrics")
        dumps = [dump_database(context)]
        call("DELETE", f"{URL}/pd-production")
        call("DELETE", f"{URL}/pd-production", params={"force": "true"})

    texts = [r.text for r in responses] + [str(r.headers) for r in responses]
    texts += [*dumps, dump_database(context), caplog.text]
    texts += [str(record.__dict__) for record in caplog.records]
    assert [r.status_code for r in responses] == [
        201, 409, 422, 422, 422, 422, 200, 200, 200, 202, 200, 422, 200, 200, 409, 204,
    ]  # fmt: skip
    assert "connectors: (" in dumps[0]
    assert "to pagerduty pd-production: sent (202) Event processed" in caplog.text
    assert [text for text in texts if KEY in text or NEW_KEY in text] == []
    assert "••••••••…a1b2" in responses[0].text
    assert "••••••••…L5k4" in responses[10].text
    # The key did reach PagerDuty: the search above would have found a leak.
    assert {
        a["routing_key"] for a in httpx.get(f"{emulator}/_inspect/alerts").json()["alerts"]
    } == {KEY}


def wait_for_alerts(emulator: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(httpx.get(f"{emulator}/_inspect/alerts").json()["alerts"]) < count:
        assert time.monotonic() < deadline, "the emulator never got the alerts"
        time.sleep(0.05)


def dump_database(context: Context) -> str:
    """Every row of every table, as text (bytes shown as they are stored)."""
    lines = []
    with context.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                lines.append(f"{table.name}: {tuple(row)!r}")
                lines.extend(value.decode("latin-1") for value in row if isinstance(value, bytes))
    return "\n".join(lines)


def test_a_severity_cap_is_set_kept_and_removed(admin: TestClient) -> None:
    added = admin.post(
        URL, json={"name": "pd-staging", "integration_key": KEY, "max_severity": "warning"}
    )
    kept = admin.patch(f"{URL}/pd-staging", json={"send_info": True})
    raised = admin.patch(f"{URL}/pd-staging", json={"max_severity": "error"})
    removed = admin.patch(f"{URL}/pd-staging", json={"max_severity": None})

    assert [r.json()["max_severity"] for r in (added, kept, raised, removed)] == [
        "warning",
        "warning",
        "error",
        None,
    ]


def test_an_unknown_severity_cap_is_refused_with_422_and_changes_nothing(
    admin: TestClient,
) -> None:
    admin.post(URL, json={"name": "pd-staging", "integration_key": KEY, "max_severity": "error"})

    added = admin.post(
        URL, json={"name": "pd-other", "integration_key": NEW_KEY, "max_severity": "high"}
    )
    changed = admin.patch(f"{URL}/pd-staging", json={"max_severity": "urgent"})

    message = "max_severity: Input should be 'info', 'warning', 'error' or 'critical'"
    assert (added.status_code, added.json()["errors"]) == (422, [message])
    assert (changed.status_code, changed.json()["errors"]) == (422, [message])
    assert [c["max_severity"] for c in admin.get(URL).json()["connectors"]] == ["error"]


def test_storm_collapse_is_on_by_default_and_a_patch_changes_only_what_it_gives(
    admin: TestClient,
) -> None:
    added = admin.post(
        URL,
        json={"name": "pd-staging", "integration_key": KEY, "storm": {"threshold": 50}},
    )
    windowed = admin.patch(f"{URL}/pd-staging", json={"storm": {"window_s": 120}})
    off = admin.patch(f"{URL}/pd-staging", json={"storm": {"collapse": False}})

    assert [r.json()["storm"] for r in (added, windowed, off)] == [
        {"collapse": True, "threshold": 50, "window_s": 60},
        {"collapse": True, "threshold": 50, "window_s": 120},
        {"collapse": False, "threshold": 50, "window_s": 120},
    ]


def test_a_storm_threshold_or_window_out_of_range_is_refused_with_422(admin: TestClient) -> None:
    admin.post(URL, json={"name": "pd-staging", "integration_key": KEY})

    zero = admin.patch(f"{URL}/pd-staging", json={"storm": {"threshold": 0}})
    short = admin.patch(f"{URL}/pd-staging", json={"storm": {"window_s": 5}})
    text = admin.patch(f"{URL}/pd-staging", json={"storm": {"threshold": "20"}})

    assert (zero.status_code, zero.json()["errors"]) == (
        422,
        ["storm.threshold: Input should be greater than or equal to 1"],
    )
    assert (short.status_code, short.json()["errors"]) == (
        422,
        ["storm.window_s: Input should be greater than or equal to 10"],
    )
    assert (text.status_code, text.json()["errors"]) == (
        422,
        ["storm.threshold: Input should be a valid integer"],
    )
    [connector] = admin.get(URL).json()["connectors"]
    assert connector["storm"] == {"collapse": True, "threshold": 20, "window_s": 60}


def test_a_critical_test_event_pages_high_urgency_and_resolves_now(
    service: str, emulator: str, admin_token: str
) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    with (
        httpx.Client(base_url=service, headers=headers, timeout=30) as api,
        httpx.Client(base_url=emulator, timeout=5) as pd,
    ):
        api.post(URL, json={"name": "pd-production", "integration_key": KEY})

        sent = api.post(f"{URL}/pd-production/test", json={"severity": "critical"})
        key = sent.json()["dedup_key"]
        [alert] = pd.get("/_inspect/alerts", params={"status": "open"}).json()["alerts"]
        resolved = api.post(f"{URL}/pd-production/test/resolve", json={"dedup_key": key})
        again = api.post(f"{URL}/pd-production/test/resolve", json={"dedup_key": "rbtk:pool"})

        assert (sent.status_code, alert["dedup_key"], alert["severity"]) == (200, key, "critical")
        assert (resolved.status_code, resolved.json()["status"]) == (200, "sent")
        assert [
            a["dedup_key"] for a in pd.get("/_inspect/alerts?status=resolved").json()["alerts"]
        ] == [key]
        assert again.status_code == 404
        assert again.json()["detail"] == (
            "no test event with dedup key 'rbtk:pool' was sent to pd-production"
        )

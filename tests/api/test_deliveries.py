"""GET /api/v1/pagerduty/deliveries: the delivery log, filtered, newest first, paginated."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.runtime.timefmt import format_rfc3339, parse_rfc3339
from rbtk.store.tables import outbox
from tests.factories import add_connector, add_window, pool_offline, pool_online

# On both databases: the delivery log's queries (keyset pages, filters) are tested here only.
pytestmark = pytest.mark.both_databases

URL = "/api/v1/pagerduty/deliveries"
MAY_25 = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)


def log_row(number: int, **fields: Any) -> dict[str, Any]:
    """An outbox row `number` minutes after MAY_25, sent unless told otherwise."""
    at = MAY_25 + timedelta(minutes=number)
    return {
        "connector_name": "pd-production",
        "channel_name": None,
        "channel": "pagerduty",
        "destination": b"gAAAA-encrypted",
        "key_fingerprint": "f" * 32,
        "endpoint": "https://events.pagerduty.com/v2/enqueue",
        "event_id": f"evt-{number}",
        "event_type": "evidence_pack.generation_failed",
        "project_slug": "warehouse",
        "dedup_key": f"rbtk:evidence-fail:warehouse:v{number}",
        "action": "trigger",
        "severity": "critical",
        "priority": 0,
        "body": {"event_action": "trigger", "payload": {"summary": "secret-free"}},
        "status": "sent",
        "attempts": 1,
        "created_at": at,
        "next_attempt_at": at,
        "last_attempt_at": at,
        "http_status": 202,
        "message": "Event processed",
        "errors": None,
        "latency_ms": 12.5,
        **fields,
    }


def write(context: Context, *rows: dict[str, Any]) -> None:
    # Forged: delivery log rows in any status and age, which only delivery itself writes.
    with context.engine.begin() as connection:
        connection.execute(insert(outbox), list(rows))


def test_a_delivery_is_listed_with_every_field_and_nothing_secret(
    admin: TestClient, context: Context
) -> None:
    write(context, log_row(1))

    answer = admin.get(URL)

    assert answer.status_code == 200
    assert answer.json() == {
        "deliveries": [
            {
                "id": 1,
                "channel": "pagerduty",
                "created_at": "2026-05-25T03:01:00Z",
                "last_attempt_at": "2026-05-25T03:01:00Z",
                "next_attempt_at": "2026-05-25T03:01:00Z",
                "connector": "pd-production",
                "channel_name": None,
                "event_id": "evt-1",
                "event_type": "evidence_pack.generation_failed",
                "project": "warehouse",
                "summary": "secret-free",
                "dedup_key": "rbtk:evidence-fail:warehouse:v1",
                "action": "trigger",
                "severity": "critical",
                "status": "sent",
                "attempts": 1,
                "http_status": 202,
                "message": "Event processed",
                "errors": None,
                "latency_ms": 12.5,
                "waiting": None,
            }
        ],
        "next_before_id": None,
        "next_after_id": None,
        "total": 1,
        "total_is_lower_bound": False,
    }


def test_a_failed_delivery_shows_pagerdutys_message_and_errors(
    admin: TestClient, context: Context
) -> None:
    write(
        context,
        log_row(
            1,
            status="failed",
            http_status=400,
            message="Event object is invalid",
            errors=["'payload.summary' is missing or blank"],
        ),
    )

    (delivery,) = admin.get(URL).json()["deliveries"]

    assert (delivery["status"], delivery["http_status"], delivery["message"]) == (
        "failed",
        400,
        "Event object is invalid",
    )
    assert delivery["errors"] == ["'payload.summary' is missing or blank"]


def test_a_queued_delivery_has_no_attempt_yet(admin: TestClient, context: Context) -> None:
    write(
        context,
        log_row(1, status="queued", attempts=0, last_attempt_at=None, http_status=None,
                message=None, latency_ms=None),
    )  # fmt: skip

    (delivery,) = admin.get(URL).json()["deliveries"]

    assert {k: delivery[k] for k in ("status", "attempts", "last_attempt_at", "http_status")} == {
        "status": "queued",
        "attempts": 0,
        "last_attempt_at": None,
        "http_status": None,
    }


def test_deliveries_come_newest_first_and_page_by_before_id(
    admin: TestClient, context: Context
) -> None:
    write(context, *(log_row(n) for n in range(1, 6)))

    first = admin.get(URL, params={"limit": 2}).json()
    second = admin.get(URL, params={"limit": 2, "before_id": first["next_before_id"]}).json()
    third = admin.get(URL, params={"limit": 2, "before_id": second["next_before_id"]}).json()

    assert ([d["id"] for d in first["deliveries"]], first["next_before_id"]) == ([5, 4], 4)
    assert ([d["id"] for d in second["deliveries"]], second["next_before_id"]) == ([3, 2], 2)
    assert ([d["id"] for d in third["deliveries"]], third["next_before_id"]) == ([1], None)
    assert [page["next_after_id"] for page in (first, second, third)] == [None, 3, 1]
    assert {page["total"] for page in (first, second, third)} == {5}


def test_deliveries_page_back_to_newer_rows_by_after_id(
    admin: TestClient, context: Context
) -> None:
    write(context, *(log_row(n) for n in range(1, 6)))

    newer = admin.get(URL, params={"limit": 2, "after_id": 1}).json()
    newest = admin.get(URL, params={"limit": 2, "after_id": newer["next_after_id"]}).json()

    assert [d["id"] for d in newer["deliveries"]] == [3, 2]
    assert (newer["next_after_id"], newer["next_before_id"]) == (3, 2)
    assert [d["id"] for d in newest["deliveries"]] == [5, 4]
    assert (newest["next_after_id"], newest["next_before_id"]) == (None, 4)


def test_a_full_last_page_has_no_next_page(admin: TestClient, context: Context) -> None:
    write(context, log_row(1), log_row(2))

    answer = admin.get(URL, params={"limit": 2}).json()

    assert ([d["id"] for d in answer["deliveries"]], answer["next_before_id"]) == ([2, 1], None)


def test_deliveries_are_filtered_by_connector_status_dedup_key_action_and_since(
    admin: TestClient, context: Context
) -> None:
    write(
        context,
        log_row(1),
        log_row(2, connector_name="pd-staging"),
        log_row(3, status="retrying", http_status=503),
        log_row(4, action="resolve", dedup_key="rbtk:evidence-fail:warehouse:v1"),
        log_row(5, status="suppressed", attempts=0),
    )

    def ids(**params: Any) -> list[int]:
        answer = admin.get(URL, params=params)
        assert answer.status_code == 200
        return [d["id"] for d in answer.json()["deliveries"]]

    assert ids(connector="pd-staging") == [2]
    assert ids(connector="pd-production") == [5, 4, 3, 1]
    assert ids(status="retrying") == [3]
    assert ids(status="suppressed") == [5]
    assert ids(dedup_key="rbtk:evidence-fail:warehouse:v1") == [4, 1]
    assert ids(action="resolve") == [4]
    assert ids(since="2026-05-25T03:03:00Z") == [5, 4, 3]
    assert ids(since="2026-05-25T05:03:00+02:00") == [5, 4, 3]
    assert ids(connector="pd-production", status="sent", action="trigger") == [1]
    assert ids(connector="pd-nowhere") == []


def test_deliveries_are_filtered_by_dedup_key_prefix_and_project(
    admin: TestClient, context: Context
) -> None:
    write(
        context,
        log_row(1, dedup_key="rbtk:pool-offline:warehouse:rack-1"),
        log_row(2, dedup_key="rbtk:pool-offline:warehouse:rack-10"),
        log_row(3, dedup_key="rbtk:pool_offline:warehouse:rack-1"),  # "_" is no wildcard
        log_row(4, project_slug="depot"),
    )

    def ids(**params: Any) -> list[int]:
        return [d["id"] for d in admin.get(URL, params=params).json()["deliveries"]]

    assert ids(dedup_prefix="rbtk:pool-offline:warehouse:rack-1") == [2, 1]
    assert ids(dedup_prefix="rbtk:pool-") == [2, 1]
    assert ids(dedup_prefix="rbtk:pool_") == [3]
    assert ids(project="depot") == [4]
    assert admin.get(URL, params={"project": "warehouse"}).json()["total"] == 3


def test_a_since_that_is_not_rfc_3339_is_refused_naming_it(admin: TestClient) -> None:
    answer = admin.get(URL, params={"since": "yesterday"})

    message = "since: 'yesterday' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z"
    assert (answer.status_code, answer.json()) == (422, {"detail": message, "errors": [message]})


def test_a_since_without_a_timezone_is_refused(admin: TestClient) -> None:
    answer = admin.get(URL, params={"since": "2026-05-25T03:00"})

    assert (answer.status_code, answer.json()["detail"]) == (
        422,
        "since: '2026-05-25T03:00' has no timezone; add Z or an offset such as +02:00",
    )


def test_limits_outside_1_to_500_and_unknown_statuses_are_refused(admin: TestClient) -> None:
    answers = [
        admin.get(URL, params={"limit": 0}),
        admin.get(URL, params={"limit": 501}),
        admin.get(URL, params={"status": "lost"}),
        admin.get(URL, params={"action": "acknowledge"}),
    ]

    assert [(a.status_code, a.json()["errors"]) for a in answers] == [
        (422, ["query.limit: Input should be greater than or equal to 1"]),
        (422, ["query.limit: Input should be less than or equal to 500"]),
        (
            422,
            [
                "query.status: Input should be 'queued', 'retrying', 'sent', 'failed' or "
                "'suppressed'"
            ],
        ),
        (422, ["query.action: Input should be 'trigger', 'resolve' or 'change'"]),
    ]


def test_500_deliveries_fit_one_page(admin: TestClient, context: Context) -> None:
    write(context, *(log_row(n) for n in range(1, 502)))

    answer = admin.get(URL, params={"limit": 500}).json()

    assert (len(answer["deliveries"]), answer["deliveries"][0]["id"]) == (500, 501)
    assert answer["next_before_id"] == 2


def chat_row(number: int, kind: str, name: str, **fields: Any) -> dict[str, Any]:
    return log_row(
        number, channel=kind, connector_name=None, channel_name=name, action="notify", **fields
    )


def test_slack_email_and_webhook_rows_have_their_own_log(
    admin: TestClient, context: Context
) -> None:
    write(
        context,
        log_row(1),
        chat_row(2, "slack", "ci-slack"),
        chat_row(3, "email", "ops-mail"),
        chat_row(4, "webhook", "ops-hook"),
    )

    paging = admin.get(URL).json()["deliveries"]
    notify = admin.get("/api/v1/notify/deliveries").json()["deliveries"]

    assert [(d["id"], d["channel"], d["connector"], d["channel_name"]) for d in paging] == [
        (1, "pagerduty", "pd-production", None)
    ]
    assert [(d["id"], d["channel"], d["connector"], d["channel_name"]) for d in notify] == [
        (4, "webhook", None, "ops-hook"),
        (3, "email", None, "ops-mail"),
        (2, "slack", None, "ci-slack"),
    ]


def test_the_chat_log_filters_by_channel_name_and_by_kind(
    admin: TestClient, context: Context
) -> None:
    write(
        context,
        log_row(1, connector_name="ci-slack"),  # a connector named like the Slack channel
        chat_row(2, "slack", "ci-slack"),
        chat_row(3, "email", "ops-mail"),
    )

    def ids(**params: str) -> list[int]:
        answer = admin.get("/api/v1/notify/deliveries", params=params)
        assert answer.status_code == 200, answer.text
        return [d["id"] for d in answer.json()["deliveries"]]

    assert ids(channel="ci-slack") == [2]
    assert ids(kind="email") == [3]
    assert ids(kind="slack", channel="ops-mail") == []
    assert admin.get(URL, params={"connector": "ci-slack"}).json()["deliveries"][0]["id"] == 1
    refused = admin.get("/api/v1/notify/deliveries", params={"kind": "pagerduty"})
    assert refused.status_code == 422
    assert refused.json()["detail"] == "kind: must be one of slack, email, webhook, got 'pagerduty'"


def test_a_before_id_above_2_63_is_a_422_naming_it(admin: TestClient) -> None:
    for url, before_id in [(URL, 2**63), ("/api/v1/notify/deliveries", 2**63), (URL, 2**31)]:
        answer = admin.get(url, params={"before_id": before_id})

        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"].startswith("query.before_id: ")


def test_a_nul_in_a_filter_is_a_422_naming_it(admin: TestClient) -> None:
    answer = admin.get(URL, params={"connector": "pd\x00x"})

    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == ["query.connector: must not contain a NUL character"]


def test_a_row_still_to_be_sent_says_what_it_waits_for_and_until_when(
    admin: TestClient, context: Context
) -> None:
    """Two pages went to one key in the last minute, its budget: the next waits until the
    first of them leaves the minute. A retry waits for its backoff; another key waits for
    nothing."""
    context.settings = context.settings.model_copy(update={"pagerduty_rate_per_min": 2})
    now = datetime.now(UTC).replace(microsecond=0)
    first, second = now - timedelta(seconds=50), now - timedelta(seconds=20)
    due = {
        "status": "queued",
        "attempts": 0,
        "last_attempt_at": None,
        "http_status": None,
        "message": None,
        "latency_ms": None,
        "next_attempt_at": now - timedelta(seconds=1),
    }
    backing_off = {**due, "status": "retrying", "attempts": 1}
    backing_off["next_attempt_at"] = now + timedelta(seconds=30)
    write(
        context,
        log_row(1, last_attempt_at=first),
        log_row(2, last_attempt_at=second),
        log_row(3, **due),
        log_row(4, **{**due, "key_fingerprint": "e" * 32}),
        log_row(5, **backing_off),
    )

    rows = {d["id"]: d["waiting"] for d in admin.get(URL).json()["deliveries"]}

    budget, other, retry = rows[3], rows[4], rows[5]
    assert budget["reason"] == "rate budget"
    assert parse_rfc3339(budget["until"]) == first + timedelta(seconds=60)
    assert other is None
    assert retry["reason"] == "retry backoff"
    assert parse_rfc3339(retry["until"]) == now + timedelta(seconds=30)
    assert rows[1] is None and rows[2] is None  # sent: waits for nothing


def test_a_row_held_by_a_window_says_so_until_the_window_ends(
    admin: TestClient, context: Context
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    add_connector(context, max_severity="error", now=now)
    ends = now + timedelta(hours=1)
    add_window(context, "pd-production", now - timedelta(minutes=1), ends)
    ingest(context, [pool_offline("off-1", now - timedelta(minutes=18), "rack-a")], now)

    [held] = admin.get(URL).json()["deliveries"]

    assert held["status"] == "suppressed"
    assert held["waiting"] == {"reason": "suppression window", "until": format_rfc3339(ends)}
    assert held["summary"].startswith("Air-gapped pool rack-a offline")
    assert held["project"] == "warehouse"


def test_a_resolve_shows_the_severity_its_trigger_was_sent_at(
    admin: TestClient, context: Context
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    add_connector(context, max_severity="error", now=now)  # caps critical to error
    ingest(context, [pool_offline("off-1", now - timedelta(minutes=18), "rack-a")], now)
    ingest(context, [pool_online("on-1", now, "rack-a")], now + timedelta(seconds=1))

    resolve, trigger = admin.get(URL).json()["deliveries"]

    assert (trigger["action"], trigger["severity"]) == ("trigger", "error")
    assert (resolve["action"], resolve["severity"]) == ("resolve", "error")

"""/healthz, /readyz and /metrics."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, insert, text

from rbtk import secret_keys
from rbtk.admin import chat_channels
from rbtk.app import create_app
from rbtk.channels.base import Result, Verdict
from rbtk.context import Context
from rbtk.metrics import observe_delivery
from rbtk.runtime.secrets import Vault
from rbtk.store.db import head
from rbtk.store.tables import outbox, storms
from tests.factories import add_chat_row, add_connector

# On both databases: readiness and /metrics read the database.
pytestmark = pytest.mark.both_databases

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def pending_row(
    number: int, status: str, created_at: datetime, connector: str
) -> dict[str, object]:
    return {
        "connector_name": connector,
        "channel_name": None,
        "channel": "pagerduty",
        "destination": b"gAAAA-encrypted",
        "key_fingerprint": "f" * 32,
        "endpoint": "https://events.pagerduty.com/v2/enqueue",
        "dedup_key": f"rbtk:test:{connector}:{number}",
        "action": "trigger",
        "severity": "critical",
        "priority": 0,
        "body": {},
        "status": status,
        "attempts": 0,
        "created_at": created_at,
        "next_attempt_at": created_at,
    }


def summary(answer: Any) -> tuple[int, dict[str, Any], list[str]]:
    """/readyz's status code, its answer without the checks, and the failing checks' names."""
    body = answer.json()
    failing = [name for name, check in body.pop("checks").items() if not check["ok"]]
    return answer.status_code, body, failing


def test_healthz_answers_ok_without_a_token(client: TestClient) -> None:
    answer = client.get("/healthz")

    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_readyz_answers_ready_when_the_database_is_current(client: TestClient) -> None:
    answer = client.get("/readyz")

    assert summary(answer) == (200, {"status": "ready"}, [])
    assert set(answer.json()["checks"]) == {
        "database",
        "schema",
        "database_writable",
        "disk",
        "secret_key",
    }


def test_readyz_says_whether_serves_delivery_process_is_running(
    client: TestClient, context: Context
) -> None:
    running = [True]
    context.delivery_process = lambda: running[0]

    up = client.get("/readyz")
    running[0] = False
    down = client.get("/readyz")

    assert summary(up) == (200, {"status": "ready"}, [])
    assert up.json()["checks"]["delivery"] == {
        "ok": True,
        "detail": "the delivery process is running",
    }
    assert summary(down) == (
        503,
        {
            "status": "unavailable",
            "detail": "the delivery process is not running; rbtk serve restarts it",
        },
        ["delivery"],
    )


def test_readyz_reports_a_secret_key_that_no_longer_decrypts_the_stored_secrets(
    client: TestClient, context: Context
) -> None:
    # Another instance rotated the stored secrets to a key this one was not given.
    with context.engine.begin() as connection:
        secret_keys.write_check(connection, Vault(Fernet.generate_key()), now=datetime.now(UTC))

    answer = client.get("/readyz")

    assert summary(answer) == (
        503,
        {"status": "unavailable", "detail": secret_keys.MESSAGE},
        ["secret_key"],
    )
    assert answer.json()["detail"].startswith(
        "the integration keys and webhook URLs stored in the database cannot be decrypted "
        "with RBTK_SECRET_KEY"
    )


def test_readyz_answers_503_when_the_schema_is_behind(client: TestClient, context: Context) -> None:
    with context.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))

    answer = client.get("/readyz")

    assert summary(answer) == (
        503,
        {
            "status": "unavailable",
            "detail": f"the database's schema (0001) is behind this rbtk's ({head()}): "
            "run `rbtk migrate`",
        },
        ["schema"],
    )


def test_readyz_answers_503_when_the_database_cannot_be_reached(
    context: Context, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'rbtk.db'}")
    broken = replace(context, engine=engine)
    try:
        with TestClient(create_app(broken, workers=False)) as client:
            answer = client.get("/readyz")
    finally:
        engine.dispose()

    assert summary(answer) == (
        503,
        {
            "status": "unavailable",
            "detail": "database unreachable: OperationalError: unable to open database file",
        },
        ["database"],
    )


def test_metrics_need_a_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401


def test_metrics_show_what_waits_by_connector_and_status_its_depth_and_oldest_age(
    admin: TestClient, context: Context
) -> None:
    now = datetime.now(UTC)
    # Forged: rows in every status and age at once, which only delivery itself writes.
    with context.engine.begin() as connection:
        connection.execute(
            insert(outbox),
            [
                pending_row(1, "sent", now - timedelta(hours=2), "pd-production"),
                pending_row(2, "queued", now - timedelta(seconds=90), "pd-production"),
                pending_row(3, "retrying", now - timedelta(seconds=30), "pd-staging"),
                pending_row(4, "failed", now - timedelta(hours=1), "pd-staging"),
            ],
        )

    answer = admin.get("/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; version=1.0.0; charset=utf-8"
    found = samples(answer.text)
    by_status = {
        labels: value for (name, labels), value in found.items() if name == "rbtk_notifications"
    }
    no_channel, pd = ("channel", ""), ("kind", "pagerduty")  # empty: absent, to Prometheus
    # Sent and failed rows are the delivery log, counted as they happen
    # (rbtk_deliveries_total): a scrape never counts the whole log.
    assert by_status == {
        (no_channel, ("connector", "pd-production"), pd, ("status", "queued")): 1.0,
        (no_channel, ("connector", "pd-staging"), pd, ("status", "retrying")): 1.0,
    }
    assert found[("rbtk_outbox_depth", ())] == 2.0
    assert 90 <= found[("rbtk_outbox_oldest_pending_age_seconds", ())] < 120
    assert 90 <= found[("rbtk_oldest_undelivered_critical_seconds", ())] < 120


def test_the_oldest_undelivered_critical_page_ignores_chat_held_and_lower_severities(
    admin: TestClient, context: Context
) -> None:
    now = datetime.now(UTC)
    error = pending_row(2, "retrying", now - timedelta(minutes=30), "pd-production")
    critical = pending_row(3, "retrying", now - timedelta(minutes=6), "pd-production")
    with context.engine.begin() as connection:
        connection.execute(
            insert(outbox),
            [
                pending_row(1, "suppressed", now - timedelta(hours=1), "pd-production"),
                error | {"severity": "error", "priority": 1},
                critical,
            ],
        )
    add_chat_row(context, "ops-slack", now=now - timedelta(hours=2))

    found = samples(admin.get("/metrics").text)

    assert 360 <= found[("rbtk_oldest_undelivered_critical_seconds", ())] < 400
    assert found[("rbtk_outbox_depth", ())] == 3.0


def test_metrics_keep_a_slack_channel_apart_from_the_connector_it_is_named_like(
    admin: TestClient, context: Context
) -> None:
    now = datetime.now(UTC)
    with context.engine.begin() as connection:
        connection.execute(insert(outbox), [pending_row(1, "queued", now, "pd-production")])
    add_chat_row(context, "pd-production", now=now)

    found = samples(admin.get("/metrics").text)

    by_status = {
        labels: value for (name, labels), value in found.items() if name == "rbtk_notifications"
    }
    assert by_status == {
        (
            ("channel", ""),
            ("connector", "pd-production"),
            ("kind", "pagerduty"),
            ("status", "queued"),
        ): 1.0,
        (
            ("channel", "pd-production"),
            ("connector", ""),
            ("kind", "slack"),
            ("status", "queued"),
        ): 1.0,
    }


def test_an_empty_outbox_has_depth_and_age_zero(admin: TestClient) -> None:
    found = samples(admin.get("/metrics").text)

    assert found[("rbtk_outbox_depth", ())] == 0.0
    assert found[("rbtk_outbox_oldest_pending_age_seconds", ())] == 0.0
    assert found[("rbtk_oldest_undelivered_critical_seconds", ())] == 0.0


def test_events_are_counted_by_result(admin: TestClient, events_token: str) -> None:
    before = samples(admin.get("/metrics").text)
    event = {
        "id": "evt-1",
        "type": "runner_pool.online",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T03:00:00Z",
        "data": {"pool_name": "onprem"},
    }
    headers = {"Authorization": f"Bearer {events_token}"}

    admin.post("/api/v1/events", json={"events": [event, event, {"id": "bad"}]}, headers=headers)
    admin.post("/api/v1/events", json=event, headers=headers)

    after = samples(admin.get("/metrics").text)

    def added(result: str) -> float:
        key = ("rbtk_events_total", (("result", result),))
        return after[key] - before[key]

    assert (added("accepted"), added("duplicate"), added("rejected")) == (1.0, 2.0, 1.0)


def test_deliveries_are_counted_and_timed_per_connector(admin: TestClient) -> None:
    name = f"pd-{uuid.uuid4().hex[:8]}"  # the counters live as long as the process
    before = samples(admin.get("/metrics").text)

    sent = Result(Verdict.SENT, 202, "Event processed", latency_ms=20)
    observe_delivery("pagerduty", name, None, sent)
    observe_delivery("pagerduty", name, None, Result(Verdict.RETRY, None, "no PagerDuty"))
    observe_delivery("slack", None, name, sent)  # a Slack channel named like it

    after = samples(admin.get("/metrics").text)
    pd = (("channel", ""), ("connector", name), ("kind", "pagerduty"))
    slack = (("channel", name), ("connector", ""), ("kind", "slack"))
    assert after[("rbtk_deliveries_total", (*pd, ("verdict", "sent")))] == 1.0
    assert after[("rbtk_deliveries_total", (*pd, ("verdict", "retry")))] == 1.0
    assert after[("rbtk_delivery_latency_seconds_count", pd)] == 1.0
    assert after[("rbtk_delivery_latency_seconds_sum", pd)] == 0.02
    assert after[("rbtk_delivery_latency_seconds_bucket", (*pd, ("le", "0.025")))] == 1.0
    assert after[("rbtk_deliveries_total", (*slack, ("verdict", "sent")))] == 1.0
    assert after[("rbtk_delivery_latency_seconds_count", slack)] == 1.0
    assert ("rbtk_deliveries_total", (*pd, ("verdict", "sent"))) not in before


def test_failed_deliveries_are_counted_by_what_an_operator_does_about_them(
    admin: TestClient,
) -> None:
    name = f"pd-{uuid.uuid4().hex[:8]}"
    answers = [
        Result(Verdict.FAILED, 400, "Invalid routing key"),
        Result(Verdict.RETRY, 503, "PagerDuty answered 503", endpoint_down=True),
        Result(Verdict.RETRY, None, "timed out waiting for PagerDuty", endpoint_down=True),
        Result(Verdict.RETRY, 429, "rate limited by PagerDuty"),
        Result(Verdict.SENT, 202, "Event processed"),
    ]
    for answer in answers:
        observe_delivery("pagerduty", name, None, answer)

    found = samples(admin.get("/metrics").text)

    pd = (("channel", ""), ("connector", name), ("kind", "pagerduty"))
    failures = {
        labels[-1][1]: value
        for (metric, labels), value in found.items()
        if metric == "rbtk_delivery_failures_total" and labels[:3] == pd
    }
    assert failures == {"refused": 1.0, "endpoint_down": 2.0, "throttled": 1.0}


def test_a_fresh_metrics_shows_every_delivery_counter_of_each_destination_at_0(
    context: Context, admin_token: str
) -> None:
    # As Alertmanager does: a rate or ratio over a counter that first appears with its first
    # failure never sees that failure, so the alert rules would stay silent.
    connector, channel = f"pd-{uuid.uuid4().hex[:8]}", f"mail-{uuid.uuid4().hex[:8]}"
    add_connector(context, connector, now=datetime.now(UTC))
    with context.engine.begin() as connection:
        chat_channels.add_channel(
            connection,
            vault=context.vault,
            name=channel,
            kind="email",
            values={"recipients": ["ops@example.com"]},
            allow_private_webhooks=False,
            by="test",
            now=datetime.now(UTC),
        )

    with TestClient(create_app(context)) as client:  # with its delivery worker
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {admin_token}"})

    found = samples(answer.text)
    pd = (("channel", ""), ("connector", connector), ("kind", "pagerduty"))
    mail = (("channel", channel), ("connector", ""), ("kind", "email"))
    for where in (pd, mail):
        for verdict in ("sent", "retry", "failed"):
            assert found[("rbtk_deliveries_total", (*where, ("verdict", verdict)))] == 0.0
        for reason in ("refused", "endpoint_down", "throttled"):
            assert found[("rbtk_delivery_failures_total", (*where, ("reason", reason)))] == 0.0
        assert found[("rbtk_delivery_latency_seconds_count", where)] == 0.0


def test_metrics_count_open_storms_by_connector(admin: TestClient, context: Context) -> None:
    now = datetime.now(UTC)
    # Forged: a storm takes twenty incidents a minute to open, tested in tests/outbox.
    with context.engine.begin() as connection:
        connection.execute(
            insert(storms),
            [
                storm_row("pd-production", "open", now, ended_at=None),
                storm_row("pd-staging", "ended", now, ended_at=now),
            ],
        )

    found = samples(admin.get("/metrics").text)

    open_storms = {
        labels: value for (name, labels), value in found.items() if name == "rbtk_storms_open"
    }
    assert open_storms == {(("connector", "pd-production"),): 1.0}


def storm_row(
    connector: str, name: str, now: datetime, *, ended_at: datetime | None
) -> dict[str, object]:
    return {
        "connector_name": connector,
        "dedup_key": f"rbtk:storm:{connector}:{name}",
        "started_at": now - timedelta(minutes=5),
        "check_at": now,
        "ended_at": ended_at,
    }


def test_two_apps_in_one_process_both_serve_metrics(context: Context, admin_token: str) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    with (
        TestClient(create_app(context, workers=False)) as one,
        TestClient(create_app(context, workers=False)) as two,
    ):
        assert one.get("/metrics", headers=headers).status_code == 200
        assert two.get("/metrics", headers=headers).status_code == 200

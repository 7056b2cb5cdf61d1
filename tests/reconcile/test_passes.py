"""Reconcile passes on both databases, against the emulator's REST API: opting in to pages
again, dry runs, PagerDuty's rate limit, the periodic claim, and what /metrics says."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from rbtk import metrics
from rbtk.admin import connectors, probes, routing, suppressions
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.intake.scheduler import Scheduler
from rbtk.policy.severity import Severity
from rbtk.reconcile import checks, passes, verify
from rbtk.reconcile.loop import Reconciler
from rbtk.reconcile.summary import latest
from rbtk.routing.pagerduty import RouteRule
from rbtk.store.tables import outbox
from tests.factories import KEY, add_connector, evidence
from tests.waiting import wait_for

TOKEN = "y_NbAkKc66ryYTWUXYEu"
SERVICE = "PWARE01"
EVIDENCE_KEY = "rbtk:evidence-fail:warehouse:v1.4.0"


@pytest.fixture
def pd(context: Context, emulator: str, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """rbtk delivering to the emulator, whose REST API (TOKEN) knows the connector's service."""
    context.settings = context.settings.model_copy(
        update={
            "pagerduty_api_url": emulator,
            "reconcile_every_s": 0.0,  # passes on demand only
            "reconcile_grace_s": 0.0,  # the emulator applies events before it answers
        }
    )
    request.getfixturevalue("service")
    with httpx.Client(base_url=emulator, timeout=5) as client:
        client.put(
            f"/_control/services/{SERVICE}", json={"name": "Warehouse", "integration_keys": [KEY]}
        ).raise_for_status()
        client.put("/_control/rest", json={"tokens": [TOKEN]}).raise_for_status()
        now = datetime.now(UTC)
        add_connector(context, now=now)
        with context.engine.begin() as connection:
            connectors.update(
                connection,
                vault=context.vault,
                name="pd-production",
                rest_key=TOKEN,
                changes={"service_id": SERVICE},
                by="test",
                now=now,
            )
        yield client


def alerts(pd: httpx.Client, key: str) -> list[dict[str, object]]:
    found = pd.get("/_inspect/alerts").json()["alerts"]
    return [a for a in found if a["dedup_key"] == key]


def page_and_resolve_by_hand(context: Context, pd: httpx.Client) -> None:
    ingest(context, [evidence("ev-1", datetime.now(UTC), "v1.4.0")], datetime.now(UTC))
    wait_for(lambda: alerts(pd, EVIDENCE_KEY), what="the page at PagerDuty")
    [incident] = [
        i for i in pd.get("/_inspect/incidents").json()["incidents"]
        if i["incident_key"] == EVIDENCE_KEY
    ]  # fmt: skip
    pd.post(f"/_control/incidents/{incident['id']}/resolve").raise_for_status()


def opt_in_to_paging_again(context: Context) -> None:
    with context.engine.begin() as connection:
        connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            changes={"repage_resolved_by_hand": True},
            by="test",
            now=datetime.now(UTC),
        )


def test_a_connector_that_opts_in_pages_again_what_was_resolved_by_hand(
    context: Context, pd: httpx.Client
) -> None:
    opt_in_to_paging_again(context)
    page_and_resolve_by_hand(context, pd)

    summary = passes.reconcile(context, connector="pd-production")

    assert (summary.repaged, summary.by_hand, summary.fixed, summary.left) == (
        [EVIDENCE_KEY], [], 1, 0,
    )  # fmt: skip
    opened = wait_for(
        lambda: [a for a in alerts(pd, EVIDENCE_KEY) if a["status"] == "triggered"],
        what="a new incident for the same key",
    )
    assert len(opened) == 1 and len(alerts(pd, EVIDENCE_KEY)) == 2
    assert passes.reconcile(context, connector="pd-production").found == 0


def test_a_page_again_waits_for_a_suppression_window_covering_the_connector(
    context: Context, pd: httpx.Client
) -> None:
    opt_in_to_paging_again(context)
    page_and_resolve_by_hand(context, pd)
    with context.engine.begin() as connection:
        [window] = suppressions.create(
            connection, connector="pd-production", all_connectors=False, starts_at=None,
            ends_at=datetime.now(UTC) + timedelta(hours=1), reason="Maintenance", by="test",
            now=datetime.now(UTC),
        )  # fmt: skip

    summary = passes.reconcile(context, connector="pd-production")

    assert summary.repaged == [EVIDENCE_KEY]
    with context.engine.connect() as connection:
        again = connection.execute(
            select(outbox.c.status, outbox.c.message, outbox.c.event_id)
            .where(outbox.c.dedup_key == EVIDENCE_KEY, outbox.c.action == "trigger")
            .order_by(outbox.c.id.desc())
        ).first()
    assert again is not None
    assert (again.status, again.event_id) == ("suppressed", "ev-1")
    assert again.message == f"held back by suppression #{window.id}: Maintenance"

    with context.engine.begin() as connection:
        suppressions.end(connection, window.id, by="test", now=datetime.now(UTC))
    Scheduler(context).fire_due()
    opened = wait_for(
        lambda: [a for a in alerts(pd, EVIDENCE_KEY) if a["status"] == "triggered"],
        what="the page again, once the window ended",
    )
    assert len(opened) == 1 and len(alerts(pd, EVIDENCE_KEY)) == 2


def test_a_dry_run_says_what_it_would_do_and_sends_nothing(
    context: Context, pd: httpx.Client
) -> None:
    ingest(context, [evidence("ev-1", datetime.now(UTC), "v1.4.0")], datetime.now(UTC))
    wait_for(lambda: alerts(pd, EVIDENCE_KEY), what="the page at PagerDuty")
    pd.put("/_control/maintenance", json={"drop_resolves": True}).raise_for_status()
    ingest(
        context,
        [evidence("ev-2", datetime.now(UTC), "v1.4.0", failed=False)],
        datetime.now(UTC),
    )
    wait_for(
        lambda: [
            e for e in pd.get("/_inspect/events").json()["events"] if e["outcome"] == "dropped"
        ],
        what="the resolve PagerDuty dropped",
    )
    pd.put("/_control/maintenance", json={"drop_resolves": False}).raise_for_status()
    sent_before = len(pd.get("/_inspect/events").json()["events"])

    dry = passes.reconcile(context, connector="pd-production", dry_run=True)

    assert (dry.dry_run, dry.resent, dry.fixed) == (True, [EVIDENCE_KEY], 1)
    assert len(pd.get("/_inspect/events").json()["events"]) == sent_before
    assert alerts(pd, EVIDENCE_KEY)[0]["status"] == "triggered"
    real = passes.reconcile(context, connector="pd-production")
    assert real.resent == [EVIDENCE_KEY]
    wait_for(lambda: alerts(pd, EVIDENCE_KEY)[0]["status"] == "resolved", what="resolved at last")


def test_pagerdutys_rate_limit_is_waited_out_then_reported_if_it_lasts(
    context: Context, pd: httpx.Client
) -> None:
    pd.put(
        "/_control/rest", json={"tokens": [TOKEN], "throttle_next": 1, "throttle_reset_s": 0}
    ).raise_for_status()

    waited = passes.reconcile(context, connector="pd-production")

    assert waited.error is None
    pd.put(
        "/_control/rest", json={"tokens": [TOKEN], "throttle_next": 10, "throttle_reset_s": 0}
    ).raise_for_status()
    throttled = passes.reconcile(context, connector="pd-production")
    assert throttled.error is not None
    assert throttled.error.startswith("PagerDuty's REST API is rate limiting this key (HTTP 429")
    with context.engine.connect() as connection:
        assert [run.error is None for run in latest(connection, "pd-production")] == [
            False,
            True,
        ]


def test_metrics_show_each_connectors_last_pass(context: Context, pd: httpx.Client) -> None:
    page_and_resolve_by_hand(context, pd)
    passes.reconcile(context, connector="pd-production")

    text = metrics.render(context.engine).decode()

    assert 'rbtk_reconcile_found{connector="pd-production"} 1.0' in text
    assert 'rbtk_reconcile_left{connector="pd-production"} 1.0' in text
    assert 'rbtk_reconcile_failing{connector="pd-production"} 0.0' in text


def test_each_connector_is_claimed_by_one_instance_once_per_period(
    context: Context, pd: httpx.Client
) -> None:
    every = {"reconcile_every_s": 600.0}
    context.settings = context.settings.model_copy(update=every)
    one, other = Reconciler(context), Reconciler(context)
    now = datetime.now(UTC)

    assert one.claim(now) == ["pd-production"]  # a new connector: due at once
    assert other.claim(now) == []  # the other instance leaves it
    assert one.claim(now + timedelta(minutes=9)) == []
    assert other.claim(now + timedelta(minutes=10)) == ["pd-production"]
    assert one.claim(now + timedelta(minutes=10), first=True) == ["pd-production"]  # at start


def test_a_test_event_seen_open_on_the_service_verifies_the_connector_with_its_urgency(
    context: Context, pd: httpx.Client
) -> None:
    rule = {"type": "constant", "urgency": "severity_based"}
    pd.put(
        f"/_control/services/{SERVICE}",
        json={"name": "Warehouse", "integration_keys": [KEY], "incident_urgency_rule": rule},
    ).raise_for_status()
    sent = probes.send_test_event(context, connector="pd-production", severity=Severity.WARNING)

    verified = verify.confirm(context, connector="pd-production", dedup_key=sent.dedup_key)

    assert verified is not None and verified.ok
    assert verified.message.startswith("Verified end to end: incident #1 is open on service ")
    assert verified.urgency == "low"
    with context.engine.connect() as connection:
        view = connectors.get(connection, name="pd-production")
    assert view.verified_at is not None and view.verified_urgency == "low"


def test_a_test_incident_on_another_service_says_which_and_verifies_nothing(
    context: Context, pd: httpx.Client
) -> None:
    pd.put("/_control/services/POTHER1", json={"name": "Other"}).raise_for_status()
    with context.engine.begin() as connection:
        connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            changes={"service_id": "POTHER1"},
            by="test",
            now=datetime.now(UTC),
        )
    sent = probes.send_test_event(context, connector="pd-production")

    verified = verify.confirm(
        context, connector="pd-production", dedup_key=sent.dedup_key, wait_s=0.5
    )

    assert verified is not None and not verified.ok
    assert verified.message.startswith(
        f"The test incident opened on service {SERVICE}, not POTHER1: the integration key "
        "feeds another service."
    )
    with context.engine.connect() as connection:
        assert connectors.get(connection, name="pd-production").verified_at is None


def test_without_a_rest_api_key_there_is_nothing_to_verify(context: Context) -> None:
    add_connector(context, now=datetime.now(UTC))

    assert verify.confirm(context, connector="pd-production", dedup_key="rbtk:test:x") is None


def test_a_service_misconfigured_every_way_is_told_check_by_check(
    context: Context, pd: httpx.Client
) -> None:
    pd.put(
        f"/_control/services/{SERVICE}",
        json={
            "name": "Warehouse",
            "integration_keys": [KEY],
            "alert_grouping_parameters": {"type": "intelligent"},
            "alert_creation": "create_incidents",
            "auto_resolve_timeout": 14400,
            "acknowledgement_timeout": 1800,
            "incident_urgency_rule": {"type": "constant", "urgency": "high"},
        },
    ).raise_for_status()
    add_connector(context, "pd-shared", KEY, is_default=False, now=datetime.now(UTC))

    health = checks.check(context, connector="pd-production", now=datetime.now(UTC))

    assert health.service == "Warehouse"
    assert health.level is checks.Level.FAIL
    assert {c.name: c.level.value for c in health.checks} == {
        "alert grouping": "fail",
        "incident behaviour": "warn",
        "auto-resolve": "fail",
        "acknowledgement timeout": "warn",
        "urgency": "warn",
        "integration key": "warn",
        "tested end to end": "ok",
    }
    said = {c.name: c.message for c in health.checks}
    assert said["alert grouping"].startswith(
        "alert grouping is intelligent: PagerDuty's alert grouping overrides Roboticks' dedup keys"
    )
    assert said["auto-resolve"].startswith("PagerDuty resolves incidents left open for 4 h")
    assert said["integration key"].startswith("pd-shared uses the same integration key")
    assert health.urgency == {severity: "high" for severity in Severity}


def test_a_service_set_up_as_rbtk_needs_passes_and_shows_its_severity_based_urgency(
    context: Context, pd: httpx.Client
) -> None:
    pd.put(
        f"/_control/services/{SERVICE}",
        json={
            "name": "Warehouse",
            "integration_keys": [KEY],
            "incident_urgency_rule": {"type": "constant", "urgency": "severity_based"},
        },
    ).raise_for_status()

    health = checks.check(context, connector="pd-production", now=datetime.now(UTC))

    assert health.level is checks.Level.OK, health.checks
    assert health.urgency == {
        Severity.INFO: "low",
        Severity.WARNING: "low",
        Severity.ERROR: "high",
        Severity.CRITICAL: "high",
    }


def test_production_and_staging_routed_to_one_service_and_an_old_test_are_warned_of(
    context: Context,
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=120)
    add_connector(context, now=long_ago)
    with context.engine.begin() as connection:
        routing.replace_rules(
            connection,
            [
                RouteRule(1, "warehouse-prod", None, ("pd-production",)),
                RouteRule(2, "warehouse-staging", None, ("pd-production",)),
            ],
            by="test",
            now=datetime.now(UTC),
        )

    health = checks.check(context, connector="pd-production", now=datetime.now(UTC))

    said = {c.name: c.message for c in health.checks}
    assert said["one service per environment"].startswith(
        "routing sends production (warehouse-prod) and staging (warehouse-staging) projects to "
        "this one service"
    )
    assert said["tested end to end"].startswith(
        "never verified: test the rotation end to end at least every 90 days"
    )
    assert said["PagerDuty service"].startswith("set a REST API key and the service id")


def test_an_eu_connector_reads_the_eu_api_host(context: Context, pd: httpx.Client) -> None:
    eu = {"pagerduty_api_url": "http://127.0.0.1:9", "pagerduty_eu_api_url": str(pd.base_url)}
    context.settings = context.settings.model_copy(update=eu)
    with context.engine.begin() as connection:
        connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            changes={"region": "eu"},
            by="test",
            now=datetime.now(UTC),
        )

    read = passes.reconcile(context, connector="pd-production")
    requests = pd.get("/_inspect/requests").json()["requests"]

    assert read.error is None
    assert requests[-1]["path"] == "/incidents"

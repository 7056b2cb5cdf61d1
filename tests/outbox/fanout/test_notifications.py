"""Fan-out: routing rules and defaults, severity caps, suppression windows and their end."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rbtk.admin import suppressions
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.intake.scheduler import Scheduler
from rbtk.policy.rules import DEFAULT_ENABLED, Rule
from rbtk.store.tables import outbox
from tests.factories import (
    OTHER_KEY,
    add_connector,
    add_route,
    add_window,
    event,
    pool_offline,
    pool_online,
    send_everything,
)

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)


def log(context: Context) -> list[tuple[str, str, str, str, str]]:
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(
                outbox.c.connector_name,
                outbox.c.action,
                outbox.c.dedup_key,
                outbox.c.severity,
                outbox.c.status,
            ).order_by(outbox.c.id)
        )
        return [(r[0], r[1], r[2].rsplit(":", 1)[-1], r[3], r[4]) for r in rows]


def evidence_failed(event_id: str, project: str, tag: str = "v1") -> dict[str, object]:
    return event(
        event_id, "evidence_pack.generation_failed", T0, project, release_tag=tag, ref="main"
    )


def two_services(context: Context) -> None:
    add_connector(context, "pd-production", now=T0)
    add_connector(
        context, "pd-staging", OTHER_KEY, is_default=False, max_severity="warning", now=T0
    )


def test_the_first_matching_rule_decides_and_the_rest_go_to_defaults(context: Context) -> None:
    two_services(context)
    add_route(context, 1, ["pd-staging"], project="staging-*", now=T0)
    add_route(context, 2, ["pd-production", "pd-staging"], event_type="evidence_*", now=T0)

    ingest(context, [evidence_failed("e1", "staging-arm")], T0)
    ingest(context, [evidence_failed("e2", "warehouse")], T0)
    ingest(context, [pool_offline("e3", T0 - timedelta(hours=2), "p1", airgapped=False)], T0)

    assert log(context) == [
        ("pd-staging", "trigger", "v1", "warning", "queued"),
        ("pd-production", "trigger", "v1", "critical", "queued"),
        ("pd-staging", "trigger", "v1", "warning", "queued"),
        ("pd-production", "trigger", "p1", "error", "queued"),
    ]


def test_a_staging_cap_never_lets_a_severity_above_it_through(context: Context) -> None:
    two_services(context)
    add_route(context, 1, ["pd-staging"], project="*", now=T0)

    ingest(context, [pool_offline("e1", T0 - timedelta(hours=2), "p1")], T0)

    with context.engine.connect() as connection:
        body = connection.execute(select(outbox.c.body)).scalar_one()
    assert body["payload"]["severity"] == "warning"


def test_a_resolve_follows_its_trigger_after_the_routing_changed(context: Context) -> None:
    two_services(context)
    ingest(context, [evidence_failed("e1", "warehouse")], T0)
    add_route(context, 1, ["pd-staging"], project="*", now=T0)

    ingest(context, [event("e2", "evidence_pack.generated", T0, release_tag="v1")], T0)

    assert [(r[0], r[1]) for r in log(context)] == [
        ("pd-production", "trigger"),
        ("pd-production", "resolve"),
    ]


def test_a_trigger_inside_a_window_is_held_and_logged_as_suppressed(context: Context) -> None:
    add_connector(context, now=T0)
    window = add_window(
        context, "pd-production", T0 - timedelta(minutes=5), T0 + timedelta(hours=1)
    )

    ingest(context, [pool_offline("e1", T0 - timedelta(hours=2), "p1")], T0)

    assert log(context) == [("pd-production", "trigger", "p1", "critical", "suppressed")]
    with context.engine.connect() as connection:
        row = connection.execute(select(outbox.c.suppression_id, outbox.c.message)).one()
    assert tuple(row) == (window, f"held back by suppression #{window}: Maintenance")


def test_a_condition_opened_and_cleared_inside_a_window_sends_nothing(context: Context) -> None:
    add_connector(context, now=T0)
    add_window(context, "pd-production", T0 - timedelta(minutes=5), T0 + timedelta(hours=1))

    ingest(context, [pool_offline("e1", T0 - timedelta(hours=2), "p1")], T0)
    ingest(context, [pool_online("e2", T0, "p1")], T0)
    Scheduler(context).fire_due(now=T0 + timedelta(hours=2))

    assert [r[4] for r in log(context)] == ["suppressed", "suppressed"]


def test_a_flap_inside_a_window_within_one_batch_is_logged_and_sends_nothing(
    context: Context,
) -> None:
    add_connector(context, now=T0)
    add_window(context, "pd-production", T0 - timedelta(minutes=5), T0 + timedelta(hours=1))

    batch = [pool_offline("e1", T0 - timedelta(hours=2), "p1"), pool_online("e2", T0, "p1")]
    ingest(context, batch, T0)

    assert [(r[1], r[4]) for r in log(context)] == [
        ("trigger", "suppressed"),
        ("resolve", "suppressed"),
    ]


def test_an_incident_opened_before_a_window_is_resolved_during_it(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", T0 - timedelta(hours=2), "p1")], T0)
    send_everything(context, T0)
    add_window(context, "pd-production", T0, T0 + timedelta(hours=1))

    ingest(context, [pool_online("e2", T0 + timedelta(minutes=1), "p1")], T0 + timedelta(minutes=1))

    assert [(r[1], r[4]) for r in log(context)] == [("trigger", "sent"), ("resolve", "queued")]


def test_when_a_window_ends_a_still_firing_condition_is_triggered_once(context: Context) -> None:
    add_connector(context, now=T0)
    add_window(context, "pd-production", T0, T0 + timedelta(hours=1))
    ingest(context, [pool_offline("e1", T0 - timedelta(minutes=70), "p1", airgapped=False)], T0)
    ingest(context, [pool_offline("e2", T0, "p2")], T0)  # due inside the window
    scheduler = Scheduler(context)
    scheduler.fire_due(now=T0 + timedelta(minutes=30))

    fired, _ = scheduler.fire_due(now=T0 + timedelta(hours=1))
    again, _ = scheduler.fire_due(now=T0 + timedelta(hours=2))

    assert (fired, again) == (2, 0)
    assert log(context)[-2:] == [
        ("pd-production", "trigger", "p1", "error", "queued"),
        ("pd-production", "trigger", "p2", "critical", "queued"),
    ]


def test_overlapping_windows_hold_triggers_until_the_last_one_ends(context: Context) -> None:
    add_connector(context, now=T0)
    add_window(context, "pd-production", T0, T0 + timedelta(hours=1))
    add_window(context, "pd-production", T0 + timedelta(minutes=30), T0 + timedelta(hours=2))
    ingest(context, [pool_offline("e1", T0 - timedelta(hours=2), "p1")], T0)
    scheduler = Scheduler(context)

    at_first_end, _ = scheduler.fire_due(now=T0 + timedelta(hours=1))
    at_last_end, _ = scheduler.fire_due(now=T0 + timedelta(hours=2))

    assert (at_first_end, at_last_end) == (0, 1)


def test_a_window_ended_early_releases_its_held_triggers(context: Context) -> None:
    add_connector(context, now=T0)
    window = add_window(context, "pd-production", T0, T0 + timedelta(hours=3))
    ingest(context, [pool_offline("e1", T0 - timedelta(hours=2), "p1")], T0)
    ended = T0 + timedelta(minutes=10)
    with context.engine.begin() as connection:
        suppressions.end(connection, window, by="ops", now=ended)

    fired, _ = Scheduler(context).fire_due(now=ended)

    assert fired == 1
    assert log(context)[-1] == ("pd-production", "trigger", "p1", "critical", "queued")


def test_each_connector_is_paged_as_its_own_toggles_promise(context: Context) -> None:
    """A: "air-gapped pool offline" off, "any pool offline" on; B: both on."""
    add_connector(context, "pd-a", rules=DEFAULT_ENABLED - {Rule.AIRGAPPED_POOL_OFFLINE}, now=T0)
    add_connector(context, "pd-b", OTHER_KEY, now=T0)
    scheduler = Scheduler(context)
    ingest(context, [pool_offline("e1", T0, "p1")], T0)  # last heartbeat 2 minutes ago

    scheduler.fire_due(now=T0 + timedelta(minutes=13))
    at_15 = log(context)
    send_everything(context, T0 + timedelta(minutes=13))
    scheduler.fire_due(now=T0 + timedelta(minutes=58))
    at_60 = log(context)[len(at_15) :]
    send_everything(context, T0 + timedelta(minutes=58))
    ingest(context, [pool_online("e2", T0 + timedelta(minutes=70), "p1")], T0)
    resolves = log(context)[len(at_15) + len(at_60) :]

    assert at_15 == [("pd-b", "trigger", "p1", "critical", "queued")]
    assert at_60 == [("pd-a", "trigger", "p1", "error", "queued")]
    assert resolves == [
        ("pd-a", "resolve", "p1", "error", "queued"),
        ("pd-b", "resolve", "p1", "critical", "queued"),
    ]


def test_a_capped_connector_is_not_paged_again_when_only_the_uncapped_severity_rises(
    context: Context,
) -> None:
    add_connector(context, "pd-staging", max_severity="warning", now=T0)
    ingest(context, [pool_offline("e1", T0, "p1", airgapped=False)], T0)
    Scheduler(context).fire_due(now=T0 + timedelta(minutes=58))

    ingest(context, [pool_offline("e2", T0 + timedelta(minutes=59), "p1")], T0)

    assert log(context) == [("pd-staging", "trigger", "p1", "warning", "queued")]


def test_a_trigger_released_after_a_window_says_how_things_are_when_it_is_sent(
    context: Context,
) -> None:
    add_connector(context, now=T0)
    add_window(context, "pd-production", T0 - timedelta(minutes=5), T0 + timedelta(seconds=70))
    ingest(context, [pool_offline("e1", T0 - timedelta(minutes=13), "p1")], T0)
    scheduler = Scheduler(context)
    scheduler.fire_due(now=T0)  # offline for 15 minutes: held

    scheduler.fire_due(now=T0 + timedelta(seconds=70))

    with context.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.status, outbox.c.body, outbox.c.event_id).order_by(outbox.c.id)
        ).all()
    (held, held_body, _), (sent, sent_body, cause) = rows
    assert (held, sent, cause) == ("suppressed", "queued", "e1")
    assert held_body["payload"]["summary"] == "Air-gapped pool p1 offline for 15 minutes"
    assert sent_body["payload"]["summary"] == "Air-gapped pool p1 offline for 16 minutes"
    assert sent_body["payload"]["timestamp"] == "2026-05-25T02:01:10Z"

"""The outbox: per-key order, retries with backoff, give-up age, leases, the rate budget."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from rbtk.channels import pagerduty
from rbtk.channels.base import Endpoint, Result, Verdict
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.outbox.queue.claim import Claimed, claim, endpoint_of, release_leases
from rbtk.outbox.queue.record import backoff, give_up_expired, record, wake
from rbtk.store.tables import outbox
from tests.factories import (
    OTHER_KEY,
    add_chat_row,
    add_connector,
    add_route,
    pool_offline,
    pool_online,
)

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
RETRY = Result(Verdict.RETRY, 500, "PagerDuty answered 500")
SENT = Result(Verdict.SENT, 202, "Event processed")


def take(context: Context, now: datetime, *, limit: int = 100, rate: int = 0) -> list[Claimed]:
    with context.engine.begin() as connection:
        return claim(connection, now=now, limit=limit, lease=LEASE, rates={"pagerduty": rate})


def answer(context: Context, claimed: list[Claimed], result: Result, now: datetime) -> None:
    with context.engine.begin() as connection:
        record(
            connection,
            [(c, result) for c in claimed],
            now=now,
            settings=context.settings,
            rng=random.Random(1),
        )


def statuses(context: Context) -> list[tuple[str, str, int]]:
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.action, outbox.c.status, outbox.c.attempts).order_by(outbox.c.id)
        )
        return [(r.action, r.status, r.attempts) for r in rows]


def offline_then_online(context: Context) -> None:
    """A trigger and its resolve, both waiting in one lane. A sender took the trigger before
    the resolve came and died (its lease released), so the two do not coalesce: PagerDuty
    may have the trigger, and only the resolve can close it."""
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", T0 - timedelta(hours=1))], T0)
    take(context, T0)
    with context.engine.begin() as connection:
        release_leases(connection)
    ingest(context, [pool_online("e2", T0)], T0)


def test_a_resolve_waits_while_its_trigger_is_retried(context: Context) -> None:
    offline_then_online(context)

    first = take(context, T0)
    assert [c.body["event_action"] for c in first] == ["trigger"]
    answer(context, first, RETRY, T0)
    assert take(context, T0 + timedelta(minutes=5)) != []  # the trigger again, never the resolve


def test_a_resolve_goes_once_its_trigger_is_sent(context: Context) -> None:
    offline_then_online(context)

    answer(context, take(context, T0), SENT, T0)
    second = take(context, T0)

    assert [c.body["event_action"] for c in second] == ["resolve"]
    assert "routing_key" not in second[0].body  # the key is added only when sending


def test_a_claimed_row_is_not_claimed_again_until_its_lease_ends(context: Context) -> None:
    offline_then_online(context)

    assert len(take(context, T0)) == 1
    assert take(context, T0 + timedelta(seconds=59)) == []
    # the worker died: after the lease the row is picked up again, not lost
    assert [c.body["event_action"] for c in take(context, T0 + LEASE * 2)] == ["trigger"]


def test_a_retry_waits_for_its_backoff_and_honours_retry_after(context: Context) -> None:
    context.settings = context.settings.model_copy(update={"retry_cap_s": 600.0})
    offline_then_online(context)
    answer(context, take(context, T0), Result(Verdict.RETRY, 429, "slow down", None, 30.0), T0)

    assert statuses(context)[0] == ("trigger", "retrying", 1)
    assert take(context, T0 + timedelta(seconds=29)) == []
    assert len(take(context, T0 + timedelta(seconds=31))) == 1


def test_a_long_retry_after_is_cut_to_the_retry_cap_so_a_page_is_tried_within_minutes(
    context: Context,
) -> None:
    context.settings = context.settings.model_copy(update={"retry_cap_s": 600.0})
    offline_then_online(context)
    throttled = Result(Verdict.RETRY, 429, "rate limited by PagerDuty", None, 100_000.0)

    answer(context, take(context, T0), throttled, T0)

    with context.engine.connect() as connection:
        due, message = connection.execute(
            select(outbox.c.next_attempt_at, outbox.c.message).order_by(outbox.c.id)
        ).first()  # type: ignore[misc]
    assert due == T0 + timedelta(seconds=600)
    assert message == (
        "rate limited by PagerDuty (asked to wait 27 h 46 min; tried again after 10 min, "
        "RBTK_RETRY_CAP_S)"
    )
    assert take(context, due - timedelta(seconds=1)) == []
    assert len(take(context, due)) == 1


def test_a_permanent_failure_is_not_retried_and_unblocks_the_lane(context: Context) -> None:
    offline_then_online(context)
    rejected = Result(Verdict.FAILED, 400, "Event object is invalid", ["bad"])

    answer(context, take(context, T0), rejected, T0)

    assert statuses(context) == [("trigger", "failed", 1), ("resolve", "queued", 0)]
    with context.engine.connect() as connection:
        row = connection.execute(
            select(outbox.c.message, outbox.c.errors).order_by(outbox.c.id)
        ).first()
    assert row is not None and (row.message, row.errors) == ("Event object is invalid", ["bad"])


def test_retries_give_up_after_the_maximum_age(context: Context) -> None:
    context.settings = context.settings.model_copy(update={"max_retry_age_s": 60.0})
    offline_then_online(context)

    answer(context, take(context, T0), RETRY, T0 + timedelta(seconds=61))

    with context.engine.connect() as connection:
        row = connection.execute(
            select(outbox.c.status, outbox.c.message).order_by(outbox.c.id)
        ).first()
    assert row is not None
    assert (row.status, row.message) == (
        "failed",
        "gave up after 1 attempts: PagerDuty answered 500",
    )


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    delays = [backoff(n, 2.0, 600.0, rng) for n in range(1, 12)]

    assert 1.0 <= delays[0] <= 2.0
    assert 8.0 <= delays[3] <= 16.0
    assert all(300.0 <= d <= 600.0 for d in delays[9:])


def test_the_budget_holds_a_key_to_its_rate_and_sends_critical_first(context: Context) -> None:
    add_connector(context, now=T0)
    pools = [
        pool_offline(f"e{i}", T0 - timedelta(hours=2), f"p{i}", airgapped=i % 2 == 0)
        for i in range(6)
    ]
    ingest(context, pools, T0)

    first = take(context, T0, rate=4)
    answer(context, first, SENT, T0)

    assert [c.body["payload"]["severity"] for c in first] == [
        "critical",
        "critical",
        "critical",
        "error",
    ]
    assert take(context, T0 + timedelta(seconds=30), rate=4) == []
    assert len(take(context, T0 + timedelta(seconds=61), rate=4)) == 2


def test_one_exhausted_key_does_not_hold_back_another(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline(f"e{i}", T0 - timedelta(hours=2), f"p{i}") for i in range(3)], T0)
    add_connector(context, "pd-staging", OTHER_KEY, now=T0)
    ingest(context, [pool_offline(f"e{i}", T0 - timedelta(hours=2), f"p{i}") for i in (3, 4)], T0)

    first = take(context, T0, limit=2, rate=2)
    answer(context, first, SENT, T0)
    rest = take(context, T0, limit=2, rate=2)

    assert [c.connector_name for c in first] == ["pd-production", "pd-production"]
    assert [c.connector_name for c in rest] == ["pd-staging", "pd-staging"]


def test_a_key_with_less_budget_left_than_rows_due_never_crowds_another_out(
    context: Context,
) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline(f"e{i}", T0 - timedelta(hours=2), f"p{i}") for i in range(5)], T0)
    add_connector(context, "pd-staging", OTHER_KEY, is_default=False, now=T0)
    add_route(context, 1, ["pd-staging"], project="lab", now=T0)
    ingest(context, [pool_offline("e5", T0 - timedelta(hours=2), "p5", project="lab")], T0)
    answer(context, take(context, T0, limit=3, rate=4), SENT, T0)  # one of four left

    taken = take(context, T0, limit=2, rate=4)

    assert [c.connector_name for c in taken] == ["pd-production", "pd-staging"]


def test_a_retry_after_beyond_the_maximum_age_is_clamped_so_the_row_is_tried_again(
    context: Context,
) -> None:
    # A retry cap longer than the age, so only the age clamps the wait.
    context.settings = context.settings.model_copy(
        update={"max_retry_age_s": 60.0, "retry_cap_s": 7200.0}
    )
    offline_then_online(context)
    throttled = Result(Verdict.RETRY, 429, "slow down", None, 3600.0)

    answer(context, take(context, T0 + timedelta(seconds=5)), throttled, T0 + timedelta(seconds=5))

    assert statuses(context)[0] == ("trigger", "retrying", 1)
    with context.engine.connect() as connection:
        created, due = connection.execute(
            select(outbox.c.created_at, outbox.c.next_attempt_at).order_by(outbox.c.id)
        ).first()  # type: ignore[misc]
    assert due == created + timedelta(seconds=60)  # the last moment the age allows
    again = take(context, due)
    assert len(again) == 1
    answer(context, again, throttled, due)
    assert statuses(context)[0] == ("trigger", "failed", 2)


def test_an_answer_with_nul_or_invalid_utf8_is_recorded_with_replacement_characters(
    context: Context,
) -> None:
    offline_then_online(context)
    said = pagerduty.classify(
        400, {}, b'{"message": "bad\\u0000key \\ud800", "errors": ["x\\u0000y"]}'
    )
    garbled = pagerduty.classify(502, {}, b"\xff\x00 gateway")

    answer(context, take(context, T0), said, T0)
    answer(context, take(context, T0), garbled, T0)  # the resolve, its trigger now final

    with context.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.message, outbox.c.errors).order_by(outbox.c.id))
        recorded = [(r.message, r.errors) for r in rows]
    assert recorded == [("bad\ufffdkey \ufffd", ["x\ufffdy"]), ("\ufffd\ufffd gateway", None)]


def test_a_slack_channel_named_like_a_connector_has_a_lane_of_its_own(
    context: Context,
) -> None:
    add_connector(context, now=T0)
    ingest(context, [pool_offline("e1", T0 - timedelta(hours=1))], T0)
    with context.engine.connect() as connection:
        key = connection.execute(select(outbox.c.dedup_key)).scalar_one()
    add_chat_row(context, "pd-production", dedup_key=key, now=T0)

    taken = take(context, T0)

    assert [(c.channel, c.connector_name, c.channel_name) for c in taken] == [
        ("pagerduty", "pd-production", None),
        ("slack", None, "pd-production"),
    ]


def test_a_chat_channel_s_messages_for_one_key_go_one_at_a_time(context: Context) -> None:
    first = add_chat_row(context, "ops-slack", now=T0)
    add_chat_row(context, "ops-slack", now=T0)
    other = add_chat_row(context, "ops-slack", dedup_key="rbtk:chat:2", now=T0)

    assert sorted(c.id for c in take(context, T0)) == [first, other]


# per-endpoint backoff (issue 8, item 5)

PD_US = Endpoint("pagerduty", "http://127.0.0.1:9/v2/enqueue")


def two_endpoints(context: Context) -> None:
    """Two pools on the US endpoint (the settings' URL), one on the EU endpoint."""
    add_connector(context, now=T0)
    add_connector(context, "pd-eu", OTHER_KEY, is_default=False, now=T0)
    ingest(context, [pool_offline(f"e{i}", T0 - timedelta(hours=2), f"p{i}") for i in (1, 2)], T0)
    with context.engine.begin() as connection:
        first = connection.execute(select(outbox.c.id).order_by(outbox.c.id)).scalar()
        connection.execute(
            update(outbox).where(outbox.c.id == first).values(endpoint="https://eu.example/v2")
        )


def test_rows_bound_for_a_down_endpoint_are_not_claimed_but_others_are(context: Context) -> None:
    two_endpoints(context)

    with context.engine.begin() as connection:
        taken = claim(connection, now=T0, limit=10, lease=LEASE, rates={}, exclude=[PD_US])

    assert [c.endpoint for c in taken] == ["https://eu.example/v2"]
    assert taken[0].endpoint_at == Endpoint("pagerduty", "https://eu.example/v2")


def test_only_a_channel_whose_address_is_its_secret_is_told_apart_by_fingerprint() -> None:
    """A Slack row's endpoint is only "slack" (its URL is the secret); a webhook row's
    endpoint is its URL already, so two webhook channels on one URL share an outage."""
    hook = "https://hooks.example.com/rbtk"

    assert endpoint_of("slack", "slack", "slack:1") == Endpoint("slack", "slack", "slack:1")
    assert endpoint_of("webhook", hook, "webhook:2") == Endpoint("webhook", hook)
    assert endpoint_of("email", "email", "email:3") == Endpoint("email", "email")
    assert endpoint_of("pagerduty", "https://eu.example/v2", "f" * 32) == Endpoint(
        "pagerduty", "https://eu.example/v2"
    )


def test_a_probe_takes_one_row_of_its_endpoint_even_before_the_row_is_due(
    context: Context,
) -> None:
    offline_then_online(context)
    answer(context, take(context, T0), RETRY, T0)  # backed off, not due at T0

    with context.engine.begin() as connection:
        probe = claim(connection, now=T0, limit=1, lease=LEASE, rates={}, probe=PD_US)
        other = Endpoint("pagerduty", "https://elsewhere.example/v2")
        none = claim(connection, now=T0, limit=1, lease=LEASE, rates={}, probe=other)

    assert [c.body["event_action"] for c in probe] == ["trigger"]  # never its resolve
    assert none == []


def test_waking_an_endpoint_makes_its_backed_off_rows_due_but_keeps_a_retry_after(
    context: Context,
) -> None:
    context.settings = context.settings.model_copy(
        update={"retry_base_s": 60.0, "retry_cap_s": 600.0}
    )
    add_connector(context, now=T0)
    ingest(context, [pool_offline(f"e{i}", T0 - timedelta(hours=2), f"p{i}") for i in (1, 2)], T0)
    first, second = take(context, T0)
    answer(context, [first], RETRY, T0)
    answer(context, [second], Result(Verdict.RETRY, 429, "slow down", None, 300.0), T0)

    with context.engine.begin() as connection:
        assert wake(connection, PD_US, now=T0 + timedelta(seconds=1)) == 1

    assert [c.id for c in take(context, T0 + timedelta(seconds=1))] == [first.id]


def test_a_down_endpoints_rows_give_up_only_once_tried_and_past_the_maximum_age(
    context: Context,
) -> None:
    context.settings = context.settings.model_copy(update={"max_retry_age_s": 60.0})
    add_connector(context, now=T0)
    ingest(context, [pool_offline(f"e{i}", T0 - timedelta(hours=2), f"p{i}") for i in (1, 2)], T0)
    tried = take(context, T0, limit=1)
    answer(context, tried, RETRY, T0)

    with context.engine.begin() as connection:
        assert give_up_expired(connection, PD_US, now=T0 + timedelta(seconds=59), max_age_s=60) == 0
        assert give_up_expired(connection, PD_US, now=T0 + timedelta(seconds=61), max_age_s=60) == 1

    assert [(s, a) for _, s, a in statuses(context)] == [("failed", 1), ("queued", 0)]
    with context.engine.connect() as connection:
        message = connection.execute(select(outbox.c.message).order_by(outbox.c.id)).scalar()
    assert message == "gave up after 1 attempts: PagerDuty answered 500"


def test_waking_an_endpoint_leaves_a_row_scheduled_for_later_and_never_tried(
    context: Context,
) -> None:
    offline_then_online(context)
    later = T0 + timedelta(minutes=5)
    with context.engine.begin() as connection:  # as a test event's "resolve after" row is
        connection.execute(update(outbox).values(next_attempt_at=later))
        assert wake(connection, PD_US, now=T0) == 0

    assert take(context, T0) == []

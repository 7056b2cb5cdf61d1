"""What reconcile calls drift, key by key: pure, on hand-made lanes and incidents."""

from datetime import UTC, datetime, timedelta

from rbtk.reconcile.drift import LastRow, OpenLane, compare
from rbtk.reconcile.rest import RemoteIncident

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(minutes=10)
JUST_NOW = NOW - timedelta(seconds=5)
SETTLED = NOW - timedelta(seconds=60)
POOL = "rbtk:pool-offline:warehouse:a1"
EVIDENCE = "rbtk:evidence-fail:warehouse:b2"


def incident(*keys: str, id: str = "Q1") -> RemoteIncident:
    return RemoteIncident(
        id=id,
        number=1,
        title="t",
        status="triggered",
        urgency="high",
        service_id="PSVC001",
        keys=frozenset(keys),
        created_at=None,
        html_url=None,
    )


def row(action: str, status: str = "sent", at: datetime | None = LONG_AGO) -> LastRow:
    return LastRow(id=1, action=action, status=status, answered_at=at)


def test_an_incident_open_on_both_sides_is_agreed() -> None:
    drift = compare(
        [incident(POOL)],
        {POOL: OpenLane(POOL, marked=False)},
        {POOL: row("trigger")},
        settled_before=SETTLED,
    )

    assert (drift.agreed, drift.resend, drift.by_hand, drift.unknown) == (1, [], [], [])


def test_an_incident_open_in_pagerduty_whose_resolve_was_sent_is_resent() -> None:
    drift = compare([incident(POOL)], {}, {POOL: row("resolve")}, settled_before=SETTLED)

    assert drift.resend == [POOL]


def test_a_resolve_still_on_its_way_or_just_answered_is_not_judged_yet() -> None:
    on_its_way = compare(
        [incident(POOL)], {}, {POOL: row("resolve", "retrying", None)}, settled_before=SETTLED
    )
    just_answered = compare(
        [incident(POOL)], {}, {POOL: row("resolve", at=JUST_NOW)}, settled_before=SETTLED
    )

    assert (on_its_way.resend, on_its_way.waiting) == ([], [POOL])
    assert (just_answered.resend, just_answered.waiting) == ([], [POOL])


def test_a_lane_open_here_but_not_in_pagerduty_was_resolved_there_by_hand() -> None:
    drift = compare(
        [], {POOL: OpenLane(POOL, marked=False)}, {POOL: row("trigger")}, settled_before=SETTLED
    )

    assert drift.by_hand == [POOL]


def test_a_trigger_pagerduty_has_not_applied_yet_is_not_taken_for_a_resolve_by_hand() -> None:
    drift = compare(
        [],
        {POOL: OpenLane(POOL, marked=False)},
        {POOL: row("trigger", at=JUST_NOW)},
        settled_before=SETTLED,
    )

    assert (drift.by_hand, drift.waiting) == ([], [POOL])


def test_an_rbtk_key_with_no_record_is_unknown_and_other_keys_are_not_rbtks() -> None:
    theirs = incident("db-disk-full", id="Q2")
    ours = incident(EVIDENCE, id="Q3")

    drift = compare([theirs, ours], {}, {}, settled_before=SETTLED)

    assert [found.id for found in drift.unknown] == ["Q3"]
    assert (drift.agreed, drift.listed) == (0, 1)  # only rbtk's incidents are counted


def test_a_lane_marked_resolved_by_hand_that_is_open_again_is_unmarked() -> None:
    drift = compare(
        [incident(POOL)],
        {POOL: OpenLane(POOL, marked=True)},
        {POOL: row("trigger")},
        settled_before=SETTLED,
    )

    assert drift.unmark == [POOL]


def test_an_open_test_incident_is_left_to_its_resolve_it_now_button() -> None:
    test_key = "rbtk:test:pd-production:abc"

    drift = compare([incident(test_key)], {}, {test_key: row("trigger")}, settled_before=SETTLED)

    assert (drift.resend, drift.unknown, drift.agreed) == ([], [], 1)

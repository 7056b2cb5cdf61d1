"""The policy's reason for each event that pages nothing: what the events page and
`GET /api/v1/events/{id}` show an operator who asks "why did this not page?"."""

from datetime import timedelta

from rbtk.policy.engine import apply_all
from rbtk.policy.events import Event
from rbtk.policy.rules import PolicyConfig
from rbtk.policy.state import State
from tests.policy.factories import (
    amendment,
    at,
    completed_run,
    evidence_failed,
    evidence_generated,
    pool_offline,
    pool_online,
    release,
    unknown,
)


def reasons(*events: Event, config: PolicyConfig | None = None) -> list[list[str]]:
    """Each event's reasons, applied in order, each at the time it occurred."""
    state, said = State(), []
    for event in events:
        outcome = apply_all(state, [event], event.occurred_at, config or PolicyConfig())
        state = outcome.state
        said.append(list(outcome.reasons.get(event.id, [])))
    return said


def test_an_event_that_pages_gives_no_reason() -> None:
    assert reasons(evidence_failed("v1.4.0", occurred_at=at(0))) == [[]]


def test_a_repeat_of_an_open_incident_says_it_is_already_paged() -> None:
    first, repeat = reasons(
        evidence_failed("v1.4.0", occurred_at=at(0)), evidence_failed("v1.4.0", occurred_at=at(1))
    )

    assert first == []
    assert repeat == [
        "already paged: rbtk:evidence-fail:warehouse:v1.4.0 is open since 2026-05-25T03:00:00Z"
    ]


def test_an_event_that_resolves_says_what_it_resolves() -> None:
    _, regenerated = reasons(
        evidence_failed("v1.4.0", occurred_at=at(0)),
        evidence_generated("v1.4.0", occurred_at=at(1)),
    )

    assert regenerated == [
        "resolves rbtk:evidence-fail:warehouse:v1.4.0: a resolve goes wherever its trigger went"
    ]


def test_evidence_without_a_release_tag_and_a_regeneration_with_nothing_open() -> None:
    assert reasons(
        evidence_failed(None, occurred_at=at(0)), evidence_generated("v1.5.0", occurred_at=at(1))
    ) == [
        ["no release tag: evidence failures off a release never page"],
        ["no failed evidence pack open for v1.5.0"],
    ]


def test_runs_say_why_they_are_not_regressions() -> None:
    assert reasons(
        completed_run({"nav/lidar": "failed"}, occurred_at=at(0)),
        release("v1.4.0", occurred_at=at(1)),
        completed_run({"nav/lidar": "failed"}, occurred_at=at(2), pull_request=42),
        completed_run({"nav/lidar": "failed"}, occurred_at=at(3), branch="dev",
                      default_branch=False),
        completed_run({"nav/lidar": "failed"}, occurred_at=at(4)),
        completed_run({"nav/lidar": "failed"}, occurred_at=at(5)),
    ) == [
        ["no release on main yet"],
        ["releases never page: v1.4.0 is now the latest release on main, so failing runs "
         "after it are regressions"],
        ["pull request #42: runs on pull requests never page"],
        ["dev is not the project's default branch"],
        [],
        ["already paged: every failing test's incident is open (1 failing test on main after "
         "release v1.4.0)"],
    ]  # fmt: skip


def test_pools_say_when_they_will_page_and_when_they_came_back_in_time() -> None:
    said = reasons(
        pool_offline("rack-a", occurred_at=at(7), last_heartbeat_at=at(0)),
        pool_online("rack-a", occurred_at=at(9)),
        pool_online("rack-b", occurred_at=at(10)),
    )

    assert said == [
        ["pending (pool_offline): offline for 7 min: pages at 60 min offline "
         "(2026-05-25T04:00:00Z) unless it is back online first"],
        ["pool back online after 9 min, before its 60 min threshold: never paged"],
        ["no offline report open for pool rack-b: nothing to resolve"],
    ]  # fmt: skip


def test_thresholds_under_a_minute_read_in_seconds_as_in_the_demo() -> None:
    # As RBTK_*_OFFLINE_MINUTES=0.166667 and 0.5 make them: rbtk demo's 10 s and 30 s.
    demo = PolicyConfig(
        airgapped_offline_after=timedelta(minutes=0.166667),
        pool_offline_after=timedelta(minutes=0.5),
    )
    said = reasons(
        pool_offline("rack-a", occurred_at=at(seconds=4), last_heartbeat_at=at(0)),
        pool_online("rack-a", occurred_at=at(seconds=7)),
        config=demo,
    )

    assert said == [
        ["pending (pool_offline): offline for 4 s: pages at 30 s offline "
         "(2026-05-25T03:00:30Z) unless it is back online first"],
        ["pool back online after 7 s, before its 30 s threshold: never paged"],
    ]  # fmt: skip


def test_a_threshold_with_a_part_minute_reads_in_minutes_and_seconds() -> None:
    said = reasons(
        pool_offline("rack-a", occurred_at=at(1, seconds=10), last_heartbeat_at=at(0)),
        pool_online("rack-a", occurred_at=at(1, seconds=20)),
        config=PolicyConfig(pool_offline_after=timedelta(minutes=1.5)),
    )

    assert said == [
        ["pending (pool_offline): offline for 1 min 10 s: pages at 1 min 30 s offline "
         "(2026-05-25T03:01:30Z) unless it is back online first"],
        ["pool back online after 1 min 20 s, before its 1 min 30 s threshold: never paged"],
    ]  # fmt: skip


def test_an_amendment_to_a_standard_not_pinned_and_an_unknown_type() -> None:
    assert reasons(
        amendment("ISO-26262", "A2", occurred_at=at(0), pinned=False),
        unknown("build.finished", occurred_at=at(1)),
    ) == [["warehouse does not pin ISO-26262"], ["no paging rule takes build.finished events"]]

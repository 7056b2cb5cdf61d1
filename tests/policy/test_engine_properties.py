"""Property tests for the policy: random event sequences interleaved with clock ticks.

A scenario is a random policy configuration and a list of steps; each step advances the
virtual clock and applies one to three inputs at that moment (pool offline/online for a few
pools with random air-gapped flags and heartbeats, releases, test runs, evidence packs
failing and generated, standard amendments, unknown events, ticks). Names, errors and titles
are sometimes huge, so keys, summaries and bodies are pushed past PagerDuty's limits.
"""

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rbtk.policy.events
from rbtk.channels.pagerduty_body import MAX_BODY_BYTES, encode, resolve_body, trigger_body
from rbtk.policy import engine, keys
from rbtk.policy.engine import Input, apply, apply_all, next_due
from rbtk.policy.events import Event
from rbtk.policy.keys import MAX_DEDUP_KEY
from rbtk.policy.rules import DEFAULT_ENABLED, SEVERITY, PolicyConfig, Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Kind, Notification, State, Tick
from rbtk.routing.lanes import Audience
from tests.channels.pagerduty_schema import problems
from tests.policy import factories as f

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Whole scenarios cost more to draw: fewer of them per test, four tests drawing their own.
SCENARIO_PROPERTY = settings(PROPERTY, max_examples=100)

ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"
BASE_URL = "https://roboticks.example"


def text(max_size: int) -> st.SearchStrategy[str]:
    """Any text intake accepts: every character but NUL and lone surrogates, which it
    refuses (no database stores them)."""
    characters = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
    return st.text(characters, max_size=max_size)


def repeated(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """A long string cheaply: one character, ASCII or up to 4 bytes in UTF-8, repeated."""
    chars = st.sampled_from(["x", "é", "—", "😀", "/", " ", ":"])
    return st.builds(lambda c, n: c * n, chars, st.integers(min_size, max_size))


def usually(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`common` three times in four, so inputs often meet the same pool, tag or test."""
    return st.sampled_from([common, common, common, rare]).flatmap(lambda chosen: chosen)


def named(*small: str, max_size: int = 1024) -> st.SearchStrategy[str]:
    return usually(st.sampled_from(small), repeated(200, max_size))


def free_text(max_size: int) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), text(max_size=30), repeated(1, max_size))


PROJECTS = usually(st.just("warehouse"), st.sampled_from(["depot", "p" * 128]))
POOLS = named("onprem-airgapped", "build-farm", "gpu pool/eu")
BRANCHES = usually(st.just("main"), named("develop", "release/1.4"))
TAGS = named("v1.4.0", "v1.5.0")
TEST_IDS = named("nav/test_lidar", "arm/test_grip", "ui/test_map")
STANDARDS = named("ISO-26262", "IEC-61508")
AMENDMENTS = named("A1", "A2")
TEST_STATUSES = st.sampled_from(["passed", "passed", "failed", "error", "skipped"])
URLS = st.one_of(
    st.none(),
    st.just("https://standards.example/a2"),
    repeated(1, 3000).map(lambda tail: "https://standards.example/" + tail),
)

SECONDS = st.one_of(st.integers(0, 120), st.integers(0, 2 * 3600))
THRESHOLD = st.builds(lambda s: timedelta(seconds=s), st.integers(0, 90 * 60))

CONFIGS = st.builds(
    PolicyConfig,
    airgapped_offline_after=THRESHOLD,
    pool_offline_after=THRESHOLD,
)
# The connector being paged: its toggles, its severity cap, its info opt-in.
AUDIENCES = st.builds(
    Audience,
    rules=usually(st.just(DEFAULT_ENABLED), st.frozensets(st.sampled_from(list(Rule)))),
    max_severity=usually(st.none(), st.sampled_from(list(Severity))),
    send_info=st.booleans(),
)


def ago(now: datetime, seconds: int) -> datetime:
    return now - timedelta(seconds=seconds)


# Each strategy below draws a maker: the input built for the moment `now` it is applied at.
Maker = Callable[[datetime], Input]


def _offline(
    pool: str,
    airgapped: bool,
    lag: int,
    heartbeat: int | None,
    pool_type: str,
    queued: int | None,
    project: str,
) -> Maker:
    return lambda now: f.pool_offline(
        pool,
        occurred_at=ago(now, lag),
        airgapped=airgapped,
        last_heartbeat_at=None if heartbeat is None else ago(now, lag + heartbeat),
        pool_type=pool_type,
        queued_jobs=queued,
        project=project,
    )


def _run(
    tests: dict[str, str],
    status: str | None,
    lag: int,
    run_id: int | str,
    branch: str,
    default_branch: bool,
    pull_request: int | None,
    project: str,
) -> Maker:
    return lambda now: f.completed_run(
        tests,
        occurred_at=ago(now, lag),
        run_id=run_id,
        branch=branch,
        default_branch=default_branch,
        pull_request=pull_request,
        status=status,
        project=project,
    )


OFFLINE: st.SearchStrategy[Maker] = st.builds(
    _offline,
    POOLS,
    st.booleans(),
    SECONDS,
    st.one_of(st.none(), SECONDS),
    st.sampled_from(["hosted", "self-hosted"]),
    st.one_of(st.none(), st.integers(0, 10_000)),
    PROJECTS,
)
ONLINE: st.SearchStrategy[Maker] = st.builds(
    lambda pool, lag, project: (
        lambda now: f.pool_online(pool, occurred_at=ago(now, lag), project=project)
    ),
    POOLS,
    SECONDS,
    PROJECTS,
)
RELEASE: st.SearchStrategy[Maker] = st.builds(
    lambda tag, branch, lag, project: (
        lambda now: f.release(tag, occurred_at=ago(now, lag), branch=branch, project=project)
    ),
    TAGS,
    BRANCHES,
    SECONDS,
    PROJECTS,
)
RUN: st.SearchStrategy[Maker] = st.builds(
    _run,
    st.dictionaries(TEST_IDS, TEST_STATUSES, max_size=4),
    st.sampled_from([None, None, "failed", "passed"]),  # None: failed iff a test did not pass
    SECONDS,
    st.one_of(st.integers(1, 10**6), named("run-1", max_size=300)),
    BRANCHES,
    usually(st.just(True), st.just(False)),
    usually(st.none(), st.integers(1, 5)),
    PROJECTS,
)
EVIDENCE_FAILED: st.SearchStrategy[Maker] = st.builds(
    lambda tag, error, ref, lag, project: (
        lambda now: f.evidence_failed(
            tag, occurred_at=ago(now, lag), error=error, ref=ref, project=project
        )
    ),
    usually(TAGS, st.none()),
    free_text(600_000),
    free_text(3000),
    SECONDS,
    PROJECTS,
)
EVIDENCE_GENERATED: st.SearchStrategy[Maker] = st.builds(
    lambda tag, lag, project: (
        lambda now: f.evidence_generated(tag, occurred_at=ago(now, lag), project=project)
    ),
    usually(TAGS, st.none()),
    SECONDS,
    PROJECTS,
)
AMENDMENT: st.SearchStrategy[Maker] = st.builds(
    lambda standard, amendment, pinned, title, url, lag, project: (
        lambda now: f.amendment(
            standard,
            amendment,
            occurred_at=ago(now, lag),
            pinned=pinned,
            title=title,
            url=url,
            project=project,
        )
    ),
    STANDARDS,
    AMENDMENTS,
    st.booleans(),
    free_text(600_000),
    URLS,
    SECONDS,
    PROJECTS,
)
UNKNOWN: st.SearchStrategy[Maker] = st.builds(
    lambda event_type, lag: lambda now: f.unknown(event_type, occurred_at=ago(now, lag)),
    st.sampled_from(["deployment.finished", "runner_pool.degraded"]),
    SECONDS,
)
TICK: st.SearchStrategy[Maker] = st.just(lambda now: Tick())

# Pool reports, ticks and test runs are drawn twice as often as the rest: thresholds and
# regressions need several inputs to meet.
MAKERS: st.SearchStrategy[Maker] = st.sampled_from(
    [
        OFFLINE,
        OFFLINE,
        TICK,
        TICK,
        RUN,
        RUN,
        ONLINE,
        RELEASE,
        EVIDENCE_FAILED,
        EVIDENCE_GENERATED,
        AMENDMENT,
        UNKNOWN,
    ]
).flatmap(lambda chosen: chosen)


Step = tuple[datetime, list[Input]]


@dataclass(frozen=True)
class Scenario:
    config: PolicyConfig
    steps: list[Step]
    audience: Audience = field(default_factory=Audience)


STEP = st.tuples(
    st.one_of(st.integers(0, 300), st.integers(0, 90 * 60)),
    st.lists(MAKERS, min_size=1, max_size=3),
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    size = draw(st.integers(1, 15))
    now, steps = f.T0, []
    for seconds, makers in draw(st.lists(STEP, min_size=size, max_size=size)):
        now += timedelta(seconds=seconds)
        steps.append((now, [make(now) for make in makers]))
    return Scenario(draw(CONFIGS), steps, draw(AUDIENCES))


@dataclass(frozen=True)
class Applied:
    now: datetime
    item: Input
    before: State
    notifications: list[Notification]
    after: State


def play(scenario: Scenario) -> Iterator[Applied]:
    state = State()
    for now, items in scenario.steps:
        for item in items:
            outcome = apply(state, item, now, scenario.config)
            yield Applied(now, item, state, outcome.notifications, outcome.state)
            state = outcome.state


def notifications_of(scenario: Scenario) -> list[Notification]:
    return [n for applied in play(scenario) for n in applied.notifications]


def paged_of(scenario: Scenario) -> list[Notification]:
    """What the scenario's connector is sent: its lanes' triggers and resolves."""
    runner = f.Run(scenario.config, scenario.audience)
    for now, items in scenario.steps:
        runner.feed(now, *items)
    return runner.paged


# Each property is a check over one played scenario; the hypothesis tests below group them,
# so one generated scenario serves several properties and the suite stays fast.


def check_no_resolve_for_a_key_that_is_not_open(notifications: list[Notification]) -> None:
    open_keys: set[str] = set()
    for n in notifications:
        if n.action is Action.TRIGGER:
            open_keys.add(n.dedup_key)
        else:
            assert n.dedup_key in open_keys, f"resolve without an open trigger: {n.dedup_key}"
            open_keys.remove(n.dedup_key)


def check_each_rule_fires_once_per_open_key(notifications: list[Notification]) -> None:
    fired: dict[str, set[Rule | None]] = {}
    for n in notifications:
        if n.action is Action.TRIGGER:
            assert n.rule not in fired.setdefault(n.dedup_key, set()), f"repeat trigger: {n}"
            fired[n.dedup_key].add(n.rule)
            assert n.rule is not None
            assert n.severity == SEVERITY[n.rule]
        else:
            rules = fired.pop(n.dedup_key)
            assert n.severity == max((SEVERITY[r] for r in rules if r), key=lambda s: s.rank)
        assert n.dedup_key.startswith("rbtk:")
        assert len(n.dedup_key) <= MAX_DEDUP_KEY


def check_a_lane_gets_what_its_toggles_promise(
    notifications: list[Notification], paged: list[Notification], audience: Audience
) -> None:
    """A reference model of a connector's lanes: a trigger whose rule is on goes out at its
    capped severity when that rises above what the lane was sent; a resolve goes to a lane
    that was sent a trigger, at the severity it was sent."""
    expected: list[tuple[Action, str, Severity]] = []
    lanes: dict[str, Severity] = {}
    for n in notifications:
        if n.action is Action.RESOLVE:
            if n.dedup_key in lanes:
                expected.append((n.action, n.dedup_key, lanes.pop(n.dedup_key)))
            continue
        if n.rule not in audience.rules:
            continue
        severity = n.severity
        if audience.max_severity is not None and severity > audience.max_severity:
            severity = audience.max_severity
        if severity is Severity.INFO and not audience.send_info:
            continue
        if n.dedup_key not in lanes or severity > lanes[n.dedup_key]:
            lanes[n.dedup_key] = severity
            expected.append((n.action, n.dedup_key, severity))
    assert [(p.action, p.dedup_key, p.severity) for p in paged] == expected


def check_a_lane_is_triggered_again_only_when_severity_rises(paged: list[Notification]) -> None:
    open_at: dict[str, Severity] = {}
    for n in paged:
        if n.action is Action.TRIGGER:
            if n.dedup_key in open_at:
                assert n.severity > open_at[n.dedup_key], f"repeat trigger: {n}"
            open_at[n.dedup_key] = n.severity
        else:
            assert n.severity == open_at.pop(n.dedup_key)


def check_no_pool_is_paged_before_its_threshold(scenario: Scenario) -> None:
    config = scenario.config
    for applied in play(scenario):
        for n in applied.notifications:
            if n.kind is not Kind.POOL_OFFLINE or n.action is not Action.TRIGGER:
                continue
            offline_for = n.at - applied.after.conditions[n.dedup_key].since
            if n.rule is Rule.AIRGAPPED_POOL_OFFLINE:
                assert n.details["airgapped"] is True
                assert offline_for >= config.airgapped_offline_after
            else:
                assert n.rule is Rule.POOL_OFFLINE
                assert offline_for >= config.pool_offline_after


@SCENARIO_PROPERTY
@given(scenarios())
def test_keys_are_resolved_only_when_open_and_lanes_retriggered_only_when_severity_rises(
    scenario: Scenario,
) -> None:
    notifications = notifications_of(scenario)
    paged = paged_of(scenario)
    check_no_resolve_for_a_key_that_is_not_open(notifications)
    check_each_rule_fires_once_per_open_key(notifications)
    check_a_lane_gets_what_its_toggles_promise(notifications, paged, scenario.audience)
    check_a_lane_is_triggered_again_only_when_severity_rises(paged)
    check_no_resolve_for_a_key_that_is_not_open(paged)
    check_no_pool_is_paged_before_its_threshold(scenario)


def test_the_stream_checks_catch_a_resolve_without_a_trigger_and_a_repeated_trigger() -> None:
    page = Notification(
        Action.TRIGGER,
        "rbtk:evidence-fail:warehouse:v1",
        Kind.EVIDENCE_FAIL,
        Rule.EVIDENCE_PACK_FAILED,
        Severity.CRITICAL,
        "Evidence pack generation failed for release v1 of warehouse",
        "warehouse",
        f.T0,
        {},
    )
    closed = replace(page, action=Action.RESOLVE)
    with pytest.raises(AssertionError, match="resolve without an open trigger"):
        check_no_resolve_for_a_key_that_is_not_open([page, closed, closed])
    with pytest.raises(AssertionError, match="repeat trigger"):
        check_each_rule_fires_once_per_open_key([page, page])
    with pytest.raises(AssertionError, match="repeat trigger"):
        check_a_lane_is_triggered_again_only_when_severity_rises([page, page])


# flaps: pools that come back before their threshold page nobody ------------------------------


FLAP_CONFIGS = st.builds(
    PolicyConfig,
    airgapped_offline_after=st.builds(timedelta, minutes=st.integers(1, 30)),
    pool_offline_after=st.builds(timedelta, minutes=st.integers(1, 90)),
)


@st.composite
def flapping(draw: st.DrawFn) -> Scenario:
    """Pools that go offline and come back before the shortest threshold, ticks in between."""
    config = draw(FLAP_CONFIGS)
    shortest = int(min(config.airgapped_offline_after, config.pool_offline_after).total_seconds())
    timeline: list[tuple[datetime, int, Input]] = []
    order = 0
    for pool in draw(st.lists(POOLS, min_size=1, max_size=3, unique=True)):
        start = f.T0 + timedelta(seconds=draw(st.integers(0, 600)))
        for _ in range(draw(st.integers(1, 4))):
            heartbeat_lag = draw(st.one_of(st.none(), st.integers(0, shortest - 1)))
            lag = heartbeat_lag or 0
            length = draw(st.integers(0, shortest - 1 - lag))
            offline = f.pool_offline(
                pool,
                occurred_at=start,
                airgapped=draw(st.booleans()),
                last_heartbeat_at=None if heartbeat_lag is None else ago(start, heartbeat_lag),
            )
            back = start + timedelta(seconds=length)
            events: list[tuple[datetime, Input]] = [(start, offline)]
            for offset in draw(st.lists(st.integers(0, length), max_size=4)):
                events.append((start + timedelta(seconds=offset), Tick()))
            events.append((back, f.pool_online(pool, occurred_at=back)))
            for moment, item in sorted(events, key=lambda e: e[0]):
                timeline.append((moment, order, item))
                order += 1
            start = back + timedelta(seconds=draw(st.integers(1, 7200)))
    timeline.sort(key=lambda e: (e[0], e[1]))
    return Scenario(config, [(moment, [item]) for moment, _, item in timeline])


@PROPERTY
@given(flapping())
def test_offline_online_flaps_shorter_than_the_threshold_never_notify(scenario: Scenario) -> None:
    assert notifications_of(scenario) == []


def test_the_flap_scenarios_are_not_vacuous() -> None:
    """The same shape reaching the threshold before coming back does page."""
    config = PolicyConfig()
    flap: list[Step] = [
        (f.at(0), [f.pool_offline("p", occurred_at=f.at(0), airgapped=True)]),
        (f.at(15), [Tick()]),
        (f.at(15, seconds=1), [f.pool_online("p", occurred_at=f.at(15, seconds=1))]),
    ]
    actions = [n.action for n in notifications_of(Scenario(config, flap))]
    assert actions == [Action.TRIGGER, Action.RESOLVE]


# regressions and evidence packs against a reference model -----------------------------------

SMALL_IDS = st.sampled_from(["nav/test_lidar", "arm/test_grip", "ui/test_map", "x" * 300])


@PROPERTY
@given(
    st.lists(
        st.tuples(
            st.dictionaries(SMALL_IDS, st.sampled_from(["passed", "failed", "error", "skipped"])),
            st.sampled_from([None, None, None, "passed", "failed"]),
        ),
        max_size=12,
    )
)
def test_regressions_open_one_incident_per_failing_test_until_a_later_run_passes_it(
    runs: list[tuple[dict[str, str], str | None]],
) -> None:
    steps: list[Step] = [(f.at(0), [f.release("v1.4.0", occurred_at=f.at(0))])]
    expected: list[tuple[Action, str]] = []
    open_ids: set[str] = set()
    for minute, (tests, status) in enumerate(runs, start=1):
        event = f.completed_run(tests, occurred_at=f.at(minute), status=status)
        steps.append((f.at(minute), [event]))
        for test_id, result in tests.items():
            if result == "passed" and test_id in open_ids:
                open_ids.remove(test_id)
                expected.append((Action.RESOLVE, test_id))
        assert isinstance(event.data, rbtk.policy.events.TestRunCompleted)
        if event.data.status == "failed":
            for test_id, result in tests.items():
                if result in {"failed", "error"} and test_id not in open_ids:
                    open_ids.add(test_id)
                    expected.append((Action.TRIGGER, test_id))
    got = notifications_of(Scenario(PolicyConfig(), steps))
    assert [(n.action, n.details["test_id"]) for n in got] == expected
    assert [n.dedup_key for n in got] == [
        keys.postrelease_fail("warehouse", "main", test_id) for _, test_id in expected
    ]


@PROPERTY
@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from([None, "v1.4.0", "v1.5.0", "v" * 400])),
        max_size=15,
    )
)
def test_an_evidence_failure_stays_open_until_its_tag_is_generated(
    events: list[tuple[bool, str | None]],
) -> None:
    steps: list[Step] = []
    expected: list[tuple[Action, str]] = []
    open_tags: set[str] = set()
    for minute, (failed, tag) in enumerate(events):
        moment = f.at(minute)
        if failed:
            steps.append((moment, [f.evidence_failed(tag, occurred_at=moment)]))
            if tag is not None and tag not in open_tags:
                open_tags.add(tag)
                expected.append((Action.TRIGGER, tag))
        else:
            steps.append((moment, [f.evidence_generated(tag, occurred_at=moment)]))
            if tag in open_tags:
                open_tags.remove(tag)
                expected.append((Action.RESOLVE, tag))
    got = notifications_of(Scenario(PolicyConfig(), steps))
    assert [(n.action, n.details["release_tag"]) for n in got] == expected
    assert [n.dedup_key for n in got] == [
        keys.evidence_fail("warehouse", tag) for _, tag in expected
    ]


# determinism and purity ----------------------------------------------------------------------


@SCENARIO_PROPERTY
@given(scenarios())
def test_the_policy_is_deterministic_pure_and_apply_all_equals_applying_one_by_one(
    scenario: Scenario,
) -> None:
    # The same inputs always give the same notifications.
    assert notifications_of(scenario) == notifications_of(scenario)

    # Per step, apply_all on the batch equals applying its inputs one at a time, and the
    # state passed in is never changed.
    together, one_by_one = State(), State()
    for now, items in scenario.steps:
        conditions, releases = together.conditions, together.releases
        snapshot = copy.deepcopy(together)
        batch = apply_all(together, items, now, scenario.config)
        assert together == snapshot
        assert together.conditions is conditions
        assert together.releases is releases
        singles: list[Notification] = []
        for item in items:
            outcome = apply(one_by_one, item, now, scenario.config)
            one_by_one = outcome.state
            singles.extend(outcome.notifications)
        assert batch.notifications == singles
        assert batch.state == one_by_one
        together = batch.state

    # The whole sequence applied at one moment equals applying it input by input.
    now = scenario.steps[-1][0]
    items = [item for _, batch_items in scenario.steps for item in batch_items]
    whole = apply_all(State(), items, now, scenario.config)
    state, singles = State(), []
    for item in items:
        outcome = apply(state, item, now, scenario.config)
        state = outcome.state
        singles.extend(outcome.notifications)
    assert whole.notifications == singles
    assert whole.state == state


@SCENARIO_PROPERTY
@given(scenarios())
def test_an_event_needs_only_its_scope_and_a_tick_before_next_due_sends_nothing(
    scenario: Scenario,
) -> None:
    for applied in play(scenario):
        # A store may load only scope(event): the outcome is the same as with everything.
        if isinstance(applied.item, Event):
            scope = engine.scope(applied.item)
            sliced = State(
                {k: c for k, c in applied.before.conditions.items() if k in scope.condition_keys},
                {k: r for k, r in applied.before.releases.items() if k in scope.release_keys},
            )
            outcome = apply(sliced, applied.item, applied.now, scenario.config)
            assert outcome.notifications == applied.notifications
            for key in scope.condition_keys:
                assert outcome.state.conditions.get(key) == applied.after.conditions.get(key)
            for release_key in scope.release_keys:
                assert outcome.state.releases.get(release_key) == applied.after.releases.get(
                    release_key
                )
        # A scheduler sleeping until next_due misses nothing; a tick then leaves nothing due.
        due = next_due(applied.after)
        if due is not None:
            early = apply(applied.after, Tick(), due - timedelta(microseconds=1), scenario.config)
            assert early.notifications == []
            on_time = apply(applied.after, Tick(), due, scenario.config)
            later = next_due(on_time.state)
            assert later is None or later > due


# every body PagerDuty receives is valid and within its limits --------------------------------


def check_bodies(notifications: Sequence[Notification]) -> None:
    for n in notifications:
        if n.action is Action.TRIGGER:
            body = trigger_body(n, ROUTING_KEY, base_url=BASE_URL)
            assert len(body["payload"]["summary"]) <= 1024
        else:
            body = resolve_body(n.dedup_key, ROUTING_KEY)
        assert problems(body) == []
        assert len(body["dedup_key"]) <= MAX_DEDUP_KEY
        assert len(encode(body)) <= MAX_BODY_BYTES


@SCENARIO_PROPERTY
@given(scenarios())
def test_every_trigger_and_resolve_body_validates_against_pagerdutys_schema(
    scenario: Scenario,
) -> None:
    check_bodies(notifications_of(scenario))


HUGE_TEXT = st.one_of(text(max_size=40), repeated(1, 200_000))
HUGE_DETAILS = st.dictionaries(
    st.one_of(text(max_size=10), repeated(1, 2000)),
    st.one_of(
        HUGE_TEXT,
        st.integers(),
        st.booleans(),
        st.none(),
        st.lists(HUGE_TEXT, max_size=2),
        st.dictionaries(text(max_size=5), HUGE_TEXT, max_size=2),
    ),
    max_size=4,
)


@st.composite
def huge_notifications(draw: st.DrawFn) -> Notification:
    """Notifications as any future caller might build them, with oversized everything."""
    kind = draw(st.sampled_from(list(Kind)))
    details: dict[str, Any] = draw(HUGE_DETAILS)
    for name in ("pool_name", "release_tag", "run_id"):
        details[name] = draw(named("x", max_size=5000))
    return Notification(
        Action.TRIGGER,
        draw(st.one_of(st.just("rbtk:test:pd:1"), repeated(1, 5000))),
        kind,
        None,
        draw(st.sampled_from(list(SEVERITY.values()))),
        "Summary " + draw(HUGE_TEXT),
        draw(PROJECTS),
        f.T0,
        details,
    )


@settings(PROPERTY, max_examples=100)
@given(huge_notifications())
def test_bodies_never_exceed_pagerdutys_limits_whatever_the_notification_holds(
    notification: Notification,
) -> None:
    check_bodies([notification, replace(notification, action=Action.RESOLVE)])

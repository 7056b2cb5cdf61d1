"""Routing rules: validating and saving the ordered list, editing it, and
explaining where an event would go, on both databases."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rbtk.admin import connectors, routing
from rbtk.admin.routing import InvalidRouting
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.outbox.fanout.explain import Explanation, explain_event
from rbtk.policy.events import Event, parse_event
from rbtk.policy.rules import Rule
from rbtk.policy.severity import Severity
from rbtk.routing import ordered_rules, pagerduty
from rbtk.routing.ordered_rules import NoSuchPosition
from rbtk.routing.pagerduty import RouteRule
from tests.factories import settings_from

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
MAY_25 = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)


def add(context: Context, name: str, **options: Any) -> None:
    with context.engine.begin() as connection:
        connectors.add(
            connection, vault=context.vault, name=name, key=KEY,
            settings=settings_from(options), by="test", now=MAY_25, **options,
        )  # fmt: skip


def save(context: Context, *rules: RouteRule) -> list[RouteRule]:
    with context.engine.begin() as connection:
        return routing.replace_rules(connection, rules, by="test", now=MAY_25)


def stored(context: Context) -> list[RouteRule]:
    with context.engine.connect() as connection:
        return pagerduty.load_rules(connection)


def event(
    event_type: str,
    project: str = "warehouse",
    occurred_at: str = "2026-05-25T03:00:00Z",
    **data: Any,
) -> Event:
    return parse_event(
        {
            "id": "evt-1",
            "type": event_type,
            "project_slug": project,
            "occurred_at": occurred_at,
            "data": data,
        }
    )


def explain(context: Context, subject: Event) -> Explanation:
    with context.engine.connect() as connection:
        return explain_event(
            connection, subject, settings=context.settings, now=MAY_25 + timedelta(hours=2)
        )


POOL_OFFLINE = {"pool_name": "hil-rig-2"}


@pytest.fixture
def production_and_staging(context: Context) -> Context:
    add(context, "pd-production")
    add(context, "pd-staging", is_default=False, max_severity="warning")
    return context


# saving the whole list


def test_the_ordered_list_is_saved_and_read_back(production_and_staging: Context) -> None:
    rules = [
        RouteRule(1, "staging-*", None, ("pd-staging",)),
        RouteRule(2, None, "runner_pool.*", ("pd-production", "pd-staging")),
    ]

    saved = save(production_and_staging, *rules)

    assert saved == rules
    assert stored(production_and_staging) == rules


def test_saving_replaces_the_previous_list(production_and_staging: Context) -> None:
    save(production_and_staging, RouteRule(1, "a", None, ("pd-staging",)))

    save(production_and_staging, RouteRule(1, None, "release.*", ("pd-production",)))

    assert stored(production_and_staging) == [RouteRule(1, None, "release.*", ("pd-production",))]


def test_an_empty_list_removes_every_rule(production_and_staging: Context) -> None:
    save(production_and_staging, RouteRule(1, "a", None, ("pd-staging",)))

    assert save(production_and_staging) == []
    assert stored(production_and_staging) == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        pytest.param(
            RouteRule(1, "warehouse", None, ("pd-nope",)),
            "position 1: no connector named 'pd-nope'",
            id="unknown connector",
        ),
        pytest.param(
            RouteRule(1, None, None, ("pd-production",)),
            "position 1: matches every event; give a project or an event type (events that no "
            "rule matches go to the default connectors)",
            id="no matcher",
        ),
        pytest.param(
            RouteRule(1, "warehouse", None, ()),
            "position 1: names no connector; give at least one",
            id="no connectors",
        ),
        pytest.param(
            RouteRule(1, " ", "runner_pool.offline", ("pd-production",)),
            "position 1: project is empty; leave it out to match every project",
            id="blank project",
        ),
        pytest.param(
            RouteRule(1, "warehouse", "", ("pd-production",)),
            "position 1: event_type is empty; leave it out to match every event type",
            id="empty event type",
        ),
        pytest.param(
            RouteRule(1, None, "runner_pool.ofline", ("pd-production",)),
            "position 1: event_type 'runner_pool.ofline' is not a known event type; did you "
            "mean 'runner_pool.offline'? (a pattern with * ? or [ matches several)",
            id="a typo in the event type",
        ),
        pytest.param(
            RouteRule(1, None, "deploy", ("pd-production",)),
            "position 1: event_type 'deploy' is not a known event type; known types are "
            "evidence_pack.generated, evidence_pack.generation_failed, release.published, "
            "runner_pool.offline, runner_pool.online, standard.amendment_published, "
            "test_run.completed (a pattern with * ? or [ matches several)",
            id="an event type like none known",
        ),
        pytest.param(
            RouteRule(1, "x" * 256, None, ("pd-production",)),
            "position 1: project is over 255 characters",
            id="long project",
        ),
        pytest.param(
            RouteRule(1, "warehouse", None, ("pd-production", "pd-production")),
            "position 1: names connector 'pd-production' twice",
            id="connector twice",
        ),
        pytest.param(
            RouteRule(0, "warehouse", None, ("pd-production",)),
            "position 0: positions start at 1",
            id="position 0",
        ),
    ],
)
def test_a_bad_rule_is_refused_and_changes_nothing(
    production_and_staging: Context, rule: RouteRule, message: str
) -> None:
    before = save(production_and_staging, RouteRule(1, "kept", None, ("pd-staging",)))

    with pytest.raises(InvalidRouting) as raised:
        save(production_and_staging, rule)

    assert str(raised.value) == message
    assert raised.value.errors == [message]
    assert stored(production_and_staging) == before


@pytest.mark.parametrize(
    "event_type", ["runner_pool.offline", "runner_pool.*", "test_run.?ompleted", "[er]*"]
)
def test_a_known_event_type_or_a_glob_is_accepted(
    production_and_staging: Context, event_type: str
) -> None:
    rule = RouteRule(1, None, event_type, ("pd-production",))

    assert save(production_and_staging, rule) == [rule]


def test_duplicate_positions_are_refused(production_and_staging: Context) -> None:
    with pytest.raises(InvalidRouting) as raised:
        save(
            production_and_staging,
            RouteRule(1, "a", None, ("pd-staging",)),
            RouteRule(1, "b", None, ("pd-production",)),
        )

    assert raised.value.errors == ["position 1: used by 2 rules; positions must be unique"]
    assert stored(production_and_staging) == []


def test_every_problem_in_the_list_is_named_at_once(production_and_staging: Context) -> None:
    with pytest.raises(InvalidRouting) as raised:
        save(
            production_and_staging,
            RouteRule(3, None, None, ("pd-old",)),
            RouteRule(1, "a", None, ()),
        )

    assert raised.value.errors == [
        "position 1: names no connector; give at least one",
        "position 3: matches every event; give a project or an event type (events that no "
        "rule matches go to the default connectors)",
        "position 3: no connector named 'pd-old'",
    ]
    assert str(raised.value) == "; ".join(raised.value.errors)


def test_two_lists_saved_at_once_do_not_collide(production_and_staging: Context) -> None:
    """The second writer waits for the first, then replaces its list whole."""
    first = RouteRule(1, "first", None, ("pd-staging",))
    second = RouteRule(1, "second", None, ("pd-production",))
    errors: list[BaseException] = []

    def save_second() -> None:
        try:
            save(production_and_staging, second)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    with production_and_staging.engine.begin() as connection:
        routing.replace_rules(connection, [first], by="test", now=MAY_25)
        writer = threading.Thread(target=save_second)
        writer.start()
        writer.join(timeout=0.3)
        assert writer.is_alive()  # waiting for the first transaction
    writer.join(timeout=10)

    assert errors == []
    assert stored(production_and_staging) == [second]


def test_the_defaults_are_the_connectors_marked_default(production_and_staging: Context) -> None:
    add(production_and_staging, "pd-eu")

    with production_and_staging.engine.connect() as connection:
        assert routing.default_names(connection) == ["pd-eu", "pd-production"]


# editing the list: insert, remove, move


def rules_named(*names: str) -> list[RouteRule]:
    return [RouteRule(i, name, None, ("pd-production",)) for i, name in enumerate(names, 1)]


def test_inserting_without_a_position_appends() -> None:
    new = RouteRule(0, "c", None, ("pd-staging",))

    assert ordered_rules.inserted(rules_named("a", "b"), new) == [
        *rules_named("a", "b"),
        RouteRule(3, "c", None, ("pd-staging",)),
    ]


def test_inserting_at_a_position_moves_the_rest_down() -> None:
    new = RouteRule(0, "first", None, ("pd-production",))

    assert ordered_rules.inserted(rules_named("a", "b"), new, position=1) == rules_named(
        "first", "a", "b"
    )


def test_inserting_renumbers_positions_with_gaps() -> None:
    gappy = [RouteRule(10, "a", None, ("x",)), RouteRule(20, "b", None, ("x",))]

    result = ordered_rules.inserted(gappy, RouteRule(0, "c", None, ("x",)), position=2)

    assert [(r.position, r.project) for r in result] == [(1, "a"), (2, "c"), (3, "b")]


def test_inserting_past_the_end_is_refused() -> None:
    with pytest.raises(NoSuchPosition) as raised:
        ordered_rules.inserted(rules_named("a", "b"), RouteRule(0, "c", None, ("x",)), position=4)

    assert str(raised.value) == "position 4: positions for a new rule are 1 to 3"


def test_removing_moves_the_rest_up() -> None:
    assert ordered_rules.without(rules_named("a", "b", "c"), 2) == rules_named("a", "c")


def test_removing_a_position_that_is_not_there_says_which_are() -> None:
    with pytest.raises(NoSuchPosition) as raised:
        ordered_rules.without(rules_named("a", "b"), 3)
    with pytest.raises(NoSuchPosition) as empty:
        ordered_rules.without([], 1)

    assert str(raised.value) == "no rule at position 3: positions for a rule are 1 to 2"
    assert str(empty.value) == "no rule at position 1: there are no rules"


def test_moving_reorders() -> None:
    assert ordered_rules.moved(rules_named("a", "b", "c"), 3, 1) == rules_named("c", "a", "b")
    assert ordered_rules.moved(rules_named("a", "b", "c"), 1, 2) == rules_named("b", "a", "c")


def test_moving_to_or_from_a_missing_position_is_refused() -> None:
    with pytest.raises(NoSuchPosition) as source:
        ordered_rules.moved(rules_named("a"), 2, 1)
    with pytest.raises(NoSuchPosition) as target:
        ordered_rules.moved(rules_named("a"), 1, 2)

    assert str(source.value) == "no rule at position 2: the only position for a rule is 1"
    assert str(target.value) == "cannot move to position 2: the only position for a rule is 1"


# explaining


def test_with_one_connector_and_no_rules_everything_goes_to_it(context: Context) -> None:
    add(context, "pd-production")

    explanation = explain(context, event("runner_pool.offline", **POOL_OFFLINE))

    assert explanation.decision.rule is None
    assert [t.name for t in explanation.decision.targets] == ["pd-production"]
    assert explanation.reason == (
        "no rule matches project 'warehouse' and event type 'runner_pool.offline': it goes to "
        "the default connectors"
    )
    assert [(c.rule, c.sent, c.note) for c in explanation.checks] == [
        (Rule.AIRGAPPED_POOL_OFFLINE, False, "not sent: the pool is not air-gapped"),
        (Rule.POOL_OFFLINE, True, "sent as error"),
    ]


def test_the_first_matching_rule_decides(production_and_staging: Context) -> None:
    save(
        production_and_staging,
        RouteRule(1, "staging-*", None, ("pd-staging",)),
        RouteRule(2, None, "runner_pool.*", ("pd-production",)),
    )

    explanation = explain(
        production_and_staging, event("runner_pool.offline", "staging-east", **POOL_OFFLINE)
    )

    assert explanation.decision.rule == RouteRule(1, "staging-*", None, ("pd-staging",))
    assert [t.name for t in explanation.decision.targets] == ["pd-staging"]
    assert explanation.reason == (
        "rule 1 (project 'staging-*', event type any) is the first to match project "
        "'staging-east' and event type 'runner_pool.offline'"
    )


def test_a_capped_connector_is_shown_with_the_severity_it_would_get(
    production_and_staging: Context,
) -> None:
    save(production_and_staging, RouteRule(1, "warehouse", None, ("pd-staging",)))

    explanation = explain(
        production_and_staging, event("runner_pool.offline", airgapped=True, **POOL_OFFLINE)
    )

    assert [
        (c.connector, c.rule, c.sent, c.severity, c.capped_from) for c in explanation.checks
    ] == [
        ("pd-staging", Rule.AIRGAPPED_POOL_OFFLINE, True, Severity.WARNING, Severity.CRITICAL),
        ("pd-staging", Rule.POOL_OFFLINE, False, Severity.WARNING, Severity.ERROR),
    ]
    assert [c.note for c in explanation.checks] == [
        "sent as warning (capped from critical)",
        # What fan-out does: the critical trigger, capped, paged it at warning a moment before.
        "not sent again: pd-staging was already paged at warning",
    ]


def test_a_rule_switched_off_and_info_not_opted_in_are_explained(context: Context) -> None:
    add(context, "pd-off", disable=["pool_offline"])
    add(context, "pd-info", max_severity="info")

    explanation = explain(context, event("runner_pool.offline", **POOL_OFFLINE))

    assert [(c.connector, c.sent, c.note) for c in explanation.checks] == [
        ("pd-off", False, "not sent: the pool is not air-gapped"),
        ("pd-off", False, "not sent: rule pool_offline is switched off on pd-off"),
        ("pd-info", False, "not sent: the pool is not air-gapped"),
        (
            "pd-info",
            False,
            "not sent: info (capped from error), and pd-info does not send info",
        ),
    ]


def test_an_event_without_a_paging_rule_is_routed_but_pages_nobody(context: Context) -> None:
    add(context, "pd-production")

    explanation = explain(context, event("release.published", tag="v1", branch="main"))

    assert [t.name for t in explanation.decision.targets] == ["pd-production"]
    assert explanation.checks == []


def test_pull_request_runs_never_page(context: Context) -> None:
    add(context, "pd-production")
    run = event(
        "test_run.completed", run_id=1, branch="f", default_branch=False, pull_request=7,
        status="failed",
    )  # fmt: skip

    assert [(c.sent, c.note) for c in explain(context, run).checks] == [
        (False, "not sent: pull request #7: runs on pull requests never page")
    ]


def test_without_default_connectors_an_unmatched_event_goes_nowhere(context: Context) -> None:
    add(context, "pd-staging", is_default=False)

    explanation = explain(context, event("runner_pool.offline", **POOL_OFFLINE))

    assert explanation.decision.targets == []
    assert explanation.reason == (
        "no rule matches project 'warehouse' and event type 'runner_pool.offline' and no "
        "connector is marked default: it goes nowhere"
    )


def test_a_connector_removed_by_force_leaves_the_rules_that_named_it(
    production_and_staging: Context,
) -> None:
    save(production_and_staging, RouteRule(1, "warehouse", None, ("pd-staging", "pd-production")))
    with production_and_staging.engine.begin() as connection:
        connectors.remove(
            connection, name="pd-staging", force=True, by="test", now=datetime.now(UTC)
        )

    explanation = explain(production_and_staging, event("runner_pool.offline", **POOL_OFFLINE))

    assert [t.name for t in explanation.decision.targets] == ["pd-production"]
    assert explanation.missing == []


@pytest.mark.parametrize(
    ("subject", "note"),
    [
        pytest.param(
            event("standard.amendment_published", standard="ISO-26262", amendment="A2"),
            "not sent: warehouse does not pin ISO-26262",
            id="an unpinned standard amendment",
        ),
        pytest.param(
            event("evidence_pack.generation_failed", release_tag=None, ref="main"),
            "not sent: no release tag: evidence failures off a release never page",
            id="an evidence failure off a release",
        ),
        pytest.param(
            event(
                "test_run.completed", run_id=1, branch="main", default_branch=True,
                status="passed", tests=[{"id": "t", "status": "passed"}],
            ),
            "not sent: the run passed",
            id="a passed run",
        ),
        pytest.param(
            event(
                "test_run.completed", run_id=1, branch="feature/x", default_branch=False,
                status="failed", tests=[{"id": "t", "status": "failed"}],
            ),
            "not sent: feature/x is not the project's default branch",
            id="a run off the default branch",
        ),
        pytest.param(
            event(
                "test_run.completed", run_id=1, branch="main", default_branch=True,
                status="failed", tests=[{"id": "t", "status": "failed"}],
            ),
            "not sent: no release on main yet",
            id="a failed run before any release",
        ),
    ],
)  # fmt: skip
def test_explain_asks_the_policy_why_an_event_does_not_page(
    context: Context, subject: Event, note: str
) -> None:
    add(context, "pd-production", enable=["standard_amendment"])

    assert [(c.sent, c.note) for c in explain(context, subject).checks] == [(False, note)]


def test_explain_of_a_failed_run_after_a_release_says_it_pages(context: Context) -> None:
    add(context, "pd-production")
    ingest(context, [{"id": "r1", "type": "release.published", "project_slug": "warehouse",
                      "occurred_at": "2026-05-25T02:00:00Z",
                      "data": {"tag": "v1.4.0", "branch": "main"}}], MAY_25)  # fmt: skip
    run = event(
        "test_run.completed", run_id=1, branch="main", default_branch=True, status="failed",
        tests=[{"id": "a", "status": "failed"}, {"id": "b", "status": "error"}],
    )  # fmt: skip

    assert [(c.sent, c.note) for c in explain(context, run).checks] == [(True, "sent as error")]
    assert explain(context, run).checks[0].policy.reason == (
        "2 failing tests on main after release v1.4.0"
    )


def test_explain_of_a_pool_offline_for_a_few_minutes_says_when_it_will_page(
    context: Context,
) -> None:
    add(context, "pd-production")
    offline = event(
        "runner_pool.offline",
        occurred_at="2026-05-25T05:00:00Z",
        airgapped=True,
        last_heartbeat_at="2026-05-25T04:53:00Z",
        **POOL_OFFLINE,
    )

    checks = explain(context, offline).checks

    assert [(c.rule, c.sent, c.note) for c in checks] == [
        (
            Rule.AIRGAPPED_POOL_OFFLINE,
            False,
            "pending: offline for 7 min: pages at 15 min offline (2026-05-25T05:08:00Z) unless "
            "it is back online first; then sent as critical",
        ),
        (
            Rule.POOL_OFFLINE,
            False,
            "pending: offline for 7 min: pages at 60 min offline (2026-05-25T05:53:00Z) unless "
            "it is back online first; then sent as error",
        ),
    ]


def test_explain_on_the_demo_thresholds_says_them_in_seconds(context: Context) -> None:
    # As RBTK_*_OFFLINE_MINUTES=0.166667 and 0.5 make them: rbtk demo's 10 s and 30 s.
    context.settings = context.settings.model_copy(
        update={"airgapped_offline_minutes": 0.166667, "pool_offline_minutes": 0.5}
    )
    add(context, "pd-production")
    offline = event(
        "runner_pool.offline",
        occurred_at="2026-05-25T05:00:00Z",
        airgapped=True,
        last_heartbeat_at="2026-05-25T04:59:48Z",
        **POOL_OFFLINE,
    )

    checks = explain(context, offline).checks

    assert [(c.rule, c.policy.reason, c.note) for c in checks] == [
        (
            Rule.AIRGAPPED_POOL_OFFLINE,
            "offline for 12 s, past its 10 s threshold",
            "sent as critical",
        ),
        (
            Rule.POOL_OFFLINE,
            "offline for 12 s: pages at 30 s offline (2026-05-25T05:00:18Z) unless it is back "
            "online first",
            "pending: offline for 12 s: pages at 30 s offline (2026-05-25T05:00:18Z) unless it "
            "is back online first; then sent as error",
        ),
    ]


def test_a_list_saved_with_gaps_is_stored_numbered_1_2_3(production_and_staging: Context) -> None:
    saved = save(
        production_and_staging,
        RouteRule(9, "c", None, ("pd-staging",)),
        RouteRule(1, "a", None, ("pd-staging",)),
        RouteRule(5, "b", None, ("pd-production",)),
    )

    assert [(r.position, r.project) for r in saved] == [(1, "a"), (2, "b"), (3, "c")]
    assert stored(production_and_staging) == saved


def test_a_forced_removal_leaves_no_gap_so_the_position_shown_is_the_position_edited(
    production_and_staging: Context,
) -> None:
    save(
        production_and_staging,
        RouteRule(1, "a", None, ("pd-production",)),
        RouteRule(2, "b", None, ("pd-staging",)),
        RouteRule(3, "c", None, ("pd-production",)),
        RouteRule(4, "d", None, ("pd-production",)),
    )
    with production_and_staging.engine.begin() as connection:
        connectors.remove(
            connection, name="pd-staging", force=True, by="test", now=datetime.now(UTC)
        )

    listed = stored(production_and_staging)
    edited = ordered_rules.without(listed, 2)

    assert [(r.position, r.project) for r in listed] == [(1, "a"), (2, "c"), (3, "d")]
    assert [r.project for r in edited] == ["a", "d"]

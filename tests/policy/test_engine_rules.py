"""Table tests for the default policy: every rule and key the README documents, on a virtual clock.

Each row feeds `(now, input)` steps to the pure policy one at a time and asserts the exact
notifications (action, dedup key, severity, summary) and the moment each was decided.
"""

from datetime import datetime, timedelta

import pytest

from rbtk.policy import engine
from rbtk.policy.engine import Input, Scope, apply, apply_all, next_due
from rbtk.policy.events import Event
from rbtk.policy.rules import DEFAULT_ENABLED, PolicyConfig, Rule
from rbtk.policy.state import Action, Kind, Release, State, Tick
from rbtk.routing.lanes import Audience
from tests.policy.factories import (
    T0,
    Sent,
    Setup,
    amendment,
    at,
    completed_run,
    evidence_failed,
    evidence_generated,
    pool_offline,
    pool_online,
    release,
    run,
    unknown,
)

Steps = list[tuple[datetime, Input | list[Input]]]

AIRGAPPED = "onprem-airgapped"
FARM = "build-farm"
AIRGAPPED_KEY = "rbtk:pool-offline:warehouse:onprem-airgapped"
FARM_KEY = "rbtk:pool-offline:warehouse:build-farm"
EVIDENCE_KEY = "rbtk:evidence-fail:warehouse:v1.4.0"
AMENDMENT_KEY = "rbtk:standard-amendment:warehouse:ISO-26262:A2"
EVIDENCE_SUMMARY = (
    "Evidence pack generation failed for release v1.4.0 of warehouse: signing key unavailable"
)
AMENDMENT_SUMMARY = "Pinned standard ISO-26262 amended (A2): Functional safety, second amendment"

DEFAULT = Audience()
ALL_ON = Audience(rules=frozenset(Rule))


def without(*rules: Rule) -> Audience:
    """A connector with the default toggles but these rules switched off."""
    return Audience(rules=DEFAULT_ENABLED - set(rules))


def trigger(key: str, severity: str, summary: str, moment: datetime) -> Sent:
    return Sent("trigger", key, severity, summary, moment)


def resolve(key: str, severity: str, moment: datetime) -> Sent:
    return Sent("resolve", key, severity, f"Resolved: {key}", moment)


def regression_key(test_id: str, branch: str = "main") -> str:
    return f"rbtk:postrelease-fail:warehouse:{branch}:{test_id}"


def regression(test_id: str, moment: datetime, tag: str = "v1.4.0") -> Sent:
    summary = f"Test {test_id} failing on main of warehouse after release {tag}"
    return trigger(regression_key(test_id), "error", summary, moment)


def airgapped_page(minutes: int, moment: datetime) -> Sent:
    summary = f"Air-gapped pool {AIRGAPPED} offline for {minutes} minutes"
    return trigger(AIRGAPPED_KEY, "critical", summary, moment)


def farm_page(minutes: int, moment: datetime) -> Sent:
    return trigger(FARM_KEY, "error", f"Pool {FARM} offline for {minutes} minutes", moment)


def airgapped_offline(
    occurred: float, heartbeat: float | None = 0, *, airgapped: bool = True
) -> Event:
    return pool_offline(
        AIRGAPPED,
        occurred_at=at(occurred),
        airgapped=airgapped,
        last_heartbeat_at=None if heartbeat is None else at(heartbeat),
        queued_jobs=12,
    )


def farm_offline(occurred: float, heartbeat: float | None = 0) -> Event:
    return pool_offline(
        FARM,
        occurred_at=at(occurred),
        last_heartbeat_at=None if heartbeat is None else at(heartbeat),
        pool_type="hosted",
    )


def ticks(*minutes: float) -> Steps:
    return [(at(m), Tick()) for m in minutes]


def check(steps: Steps, config: Setup, expected: list[Sent]) -> None:
    assert run(steps, config).sent() == expected


# §1 air-gapped pool offline > 15 min: critical ----------------------------------------------

AIRGAPPED_ROWS = [
    pytest.param(
        [(at(17), airgapped_offline(17, heartbeat=0))],
        DEFAULT,
        [airgapped_page(17, at(17))],
        id="an air-gapped pool reported 17 minutes after its last heartbeat pages critical at once",
    ),
    pytest.param(
        [(at(2), airgapped_offline(2)), *ticks(5, 14, 14 + 59 / 60), (at(15), Tick())],
        DEFAULT,
        [airgapped_page(15, at(15))],
        id="an air-gapped pool pages at the 15-minute threshold by tick with no further event",
    ),
    pytest.param(
        [(at(2), airgapped_offline(2)), (at(17), Tick())],
        DEFAULT,
        [airgapped_page(17, at(17))],
        id="a late tick pages with the minutes actually offline",
    ),
    pytest.param(
        [(at(0), airgapped_offline(0, heartbeat=None)), *ticks(14), (at(15), Tick())],
        DEFAULT,
        [airgapped_page(15, at(15))],
        id="without a heartbeat, offline is counted from occurred_at",
    ),
    pytest.param(
        [(at(0), airgapped_offline(-17, heartbeat=None))],
        DEFAULT,
        [airgapped_page(17, at(0))],
        id="an event that arrives late, already past the threshold, pages at once",
    ),
    pytest.param(
        [(at(0), airgapped_offline(-3, heartbeat=-20))],
        DEFAULT,
        [airgapped_page(20, at(0))],
        id="the last heartbeat wins over occurred_at",
    ),
    pytest.param(
        [
            (at(2), airgapped_offline(2)),
            *ticks(10),
            (at(14), pool_online(AIRGAPPED, occurred_at=at(14))),
            *ticks(15, 60, 600),
        ],
        DEFAULT,
        [],
        id="an air-gapped pool back online before 15 minutes pages nobody",
    ),
    pytest.param(
        [
            (at(2), airgapped_offline(2)),
            (at(15), Tick()),
            (at(40), pool_online(AIRGAPPED, occurred_at=at(40))),
        ],
        DEFAULT,
        [airgapped_page(15, at(15)), resolve(AIRGAPPED_KEY, "critical", at(40))],
        id="back online after the page resolves it with the same key",
    ),
    pytest.param(
        [(at(2), airgapped_offline(2)), *ticks(15, 59, 60, 61, 120)],
        DEFAULT,
        [airgapped_page(15, at(15))],
        id="the 60-minute rule never downgrades an air-gapped pool already paged critical",
    ),
    pytest.param(
        [(at(70), airgapped_offline(70, heartbeat=0)), *ticks(71, 200)],
        DEFAULT,
        [airgapped_page(70, at(70))],
        id="an air-gapped pool reported past both thresholds pages critical once, not error",
    ),
    pytest.param(
        [
            (at(2), airgapped_offline(2)),
            (at(15), Tick()),
            (at(20), airgapped_offline(20)),
            (at(30), airgapped_offline(30, heartbeat=5)),
            (at(61), Tick()),
        ],
        DEFAULT,
        [airgapped_page(15, at(15))],
        id="repeated offline reports for a paged pool send nothing new",
    ),
    pytest.param(
        [
            (at(16), airgapped_offline(16)),
            (at(20), pool_online(AIRGAPPED, occurred_at=at(20))),
            (at(30), airgapped_offline(30, heartbeat=29)),
            *ticks(43),
            (at(44), Tick()),
        ],
        DEFAULT,
        [
            airgapped_page(16, at(16)),
            resolve(AIRGAPPED_KEY, "critical", at(20)),
            airgapped_page(15, at(44)),
        ],
        id="offline again after a resolve opens a new incident from the new heartbeat",
    ),
    pytest.param(
        [(at(2), airgapped_offline(2)), *ticks(15, 59), (at(60), Tick())],
        without(Rule.AIRGAPPED_POOL_OFFLINE),
        [
            trigger(
                AIRGAPPED_KEY,
                "error",
                f"Air-gapped pool {AIRGAPPED} offline for 60 minutes",
                at(60),
            )
        ],
        id="with the air-gapped rule off an air-gapped pool pages error at 60 minutes",
    ),
    pytest.param(
        [(at(2), airgapped_offline(2)), *ticks(15, 60, 600)],
        without(Rule.AIRGAPPED_POOL_OFFLINE, Rule.POOL_OFFLINE),
        [],
        id="with both pool rules off an offline pool pages nobody",
    ),
    pytest.param(
        [(at(1), airgapped_offline(1)), *ticks(4), (at(5), Tick())],
        PolicyConfig(airgapped_offline_after=timedelta(minutes=5)),
        [airgapped_page(5, at(5))],
        id="the air-gapped threshold is configurable",
    ),
    pytest.param(
        [(at(0), airgapped_offline(0)), (at(1), Tick())],
        PolicyConfig(airgapped_offline_after=timedelta(minutes=1)),
        [
            trigger(
                AIRGAPPED_KEY,
                "critical",
                f"Air-gapped pool {AIRGAPPED} offline for 1 minute",
                at(1),
            )
        ],
        id="one minute offline is said in the singular",
    ),
    pytest.param(
        [(at(0), airgapped_offline(0)), (at(seconds=10), Tick())],
        PolicyConfig(airgapped_offline_after=timedelta(seconds=10)),
        [
            trigger(
                AIRGAPPED_KEY,
                "critical",
                f"Air-gapped pool {AIRGAPPED} offline for 10 seconds",
                at(seconds=10),
            )
        ],
        id="a threshold under a minute, as the demo's, is said in seconds, not 0 minutes",
    ),
    pytest.param(
        [(at(0), airgapped_offline(0)), (at(seconds=90), Tick())],
        PolicyConfig(airgapped_offline_after=timedelta(seconds=90)),
        [
            trigger(
                AIRGAPPED_KEY,
                "critical",
                f"Air-gapped pool {AIRGAPPED} offline for 1 minute 30 seconds",
                at(seconds=90),
            )
        ],
        id="a threshold of a minute and a half is said to the second, not as 1 minute",
    ),
    pytest.param(
        [
            (at(0), airgapped_offline(0, airgapped=False)),
            (at(60), Tick()),
            (at(61), airgapped_offline(61, airgapped=True)),
            (at(62), pool_online(AIRGAPPED, occurred_at=at(62))),
        ],
        DEFAULT,
        [
            trigger(AIRGAPPED_KEY, "error", f"Pool {AIRGAPPED} offline for 60 minutes", at(60)),
            airgapped_page(61, at(61)),
            resolve(AIRGAPPED_KEY, "critical", at(62)),
        ],
        id="a pool paged error and then reported air-gapped is re-triggered because severity rose",
    ),
    pytest.param(
        [
            (at(0), airgapped_offline(0, airgapped=True)),
            (at(15), Tick()),
            (at(70), airgapped_offline(70, airgapped=False)),
            (at(80), Tick()),
        ],
        DEFAULT,
        [airgapped_page(15, at(15))],
        id="a critical page is never followed by a lower-severity trigger for the same pool",
    ),
]


@pytest.mark.parametrize(("steps", "config", "expected"), AIRGAPPED_ROWS)
def test_an_air_gapped_pool_offline_pages_critical_after_15_minutes(
    steps: Steps, config: Setup, expected: list[Sent]
) -> None:
    check(steps, config, expected)


# §1 any pool offline > 60 min: error --------------------------------------------------------

POOL_ROWS = [
    pytest.param(
        [(at(5), farm_offline(5)), *ticks(15, 30, 59, 59 + 59 / 60), (at(60), Tick())],
        DEFAULT,
        [farm_page(60, at(60))],
        id="a pool offline 60 minutes pages error at the threshold by tick",
    ),
    pytest.param(
        [(at(75), farm_offline(70, heartbeat=0))],
        DEFAULT,
        [farm_page(75, at(75))],
        id="a pool reported already past 60 minutes pages at once",
    ),
    pytest.param(
        [
            (at(5), farm_offline(5)),
            (at(59), pool_online(FARM, occurred_at=at(59))),
            *ticks(60, 600),
        ],
        DEFAULT,
        [],
        id="a pool back online before 60 minutes pages nobody",
    ),
    pytest.param(
        [
            (at(5), farm_offline(5)),
            (at(60), Tick()),
            (at(90), pool_online(FARM, occurred_at=at(90))),
        ],
        DEFAULT,
        [farm_page(60, at(60)), resolve(FARM_KEY, "error", at(90))],
        id="back online after the page resolves it with the same key",
    ),
    pytest.param(
        [(at(5), farm_offline(5)), *ticks(60, 600)],
        without(Rule.POOL_OFFLINE),
        [],
        id="with the rule off a pool that is not air-gapped never pages",
    ),
    pytest.param(
        [(at(5), farm_offline(5)), *ticks(29), (at(30), Tick())],
        PolicyConfig(pool_offline_after=timedelta(minutes=30)),
        [farm_page(30, at(30))],
        id="the 60-minute threshold is configurable",
    ),
    pytest.param(
        [(at(0), farm_offline(0)), *ticks(15, 16, 30)],
        DEFAULT,
        [],
        id="a pool that is not air-gapped does not page at 15 minutes",
    ),
    pytest.param(
        [(at(0), farm_offline(0)), *ticks(60, 61, 120), (at(130), farm_offline(130))],
        DEFAULT,
        [farm_page(60, at(60))],
        id="a paged pool is not paged again by later ticks or reports",
    ),
    pytest.param(
        [(at(0), pool_online(FARM, occurred_at=at(0))), *ticks(60)],
        DEFAULT,
        [],
        id="a pool coming online that was never offline sends nothing",
    ),
    pytest.param(
        [
            (at(0), farm_offline(0)),
            (at(0), pool_offline(FARM, occurred_at=at(0), project="depot")),
            (at(60), Tick()),
            (at(61), pool_online(FARM, occurred_at=at(61), project="depot")),
        ],
        DEFAULT,
        [
            trigger(
                "rbtk:pool-offline:depot:build-farm",
                "error",
                f"Pool {FARM} offline for 60 minutes",
                at(60),
            ),
            farm_page(60, at(60)),
            resolve("rbtk:pool-offline:depot:build-farm", "error", at(61)),
        ],
        id="pools with the same name in two projects are two incidents, due together in key order",
    ),
]


@pytest.mark.parametrize(("steps", "config", "expected"), POOL_ROWS)
def test_any_pool_offline_pages_error_after_60_minutes(
    steps: Steps, config: Setup, expected: list[Sent]
) -> None:
    check(steps, config, expected)


# §1 evidence pack failed on a release: critical ---------------------------------------------

EVIDENCE_ROWS = [
    pytest.param(
        [(at(0), evidence_failed("v1.4.0", occurred_at=at(0)))],
        DEFAULT,
        [trigger(EVIDENCE_KEY, "critical", EVIDENCE_SUMMARY, at(0))],
        id="an evidence pack failure on a release pages critical",
    ),
    pytest.param(
        [(at(0), evidence_failed("v1.4.0", occurred_at=at(0), error=None))],
        DEFAULT,
        [
            trigger(
                EVIDENCE_KEY,
                "critical",
                "Evidence pack generation failed for release v1.4.0 of warehouse",
                at(0),
            )
        ],
        id="a failure without an error message says only what failed",
    ),
    pytest.param(
        [
            (at(0), evidence_failed(None, occurred_at=at(0))),
            (at(1), evidence_generated(None, occurred_at=at(1))),
        ],
        DEFAULT,
        [],
        id="an evidence pack failure off a release never pages",
    ),
    pytest.param(
        [(at(0), evidence_failed("v1.4.0", occurred_at=at(0)))],
        without(Rule.EVIDENCE_PACK_FAILED),
        [],
        id="with the rule off an evidence pack failure never pages",
    ),
    pytest.param(
        [
            (at(0), evidence_failed("v1.4.0", occurred_at=at(0))),
            (at(9), evidence_generated("v1.4.0", occurred_at=at(9))),
        ],
        DEFAULT,
        [
            trigger(EVIDENCE_KEY, "critical", EVIDENCE_SUMMARY, at(0)),
            resolve(EVIDENCE_KEY, "critical", at(9)),
        ],
        id="the pack generated for that tag resolves it with the same key",
    ),
    pytest.param(
        [
            (at(0), evidence_failed("v1.4.0", occurred_at=at(0))),
            (at(9), evidence_generated("v1.3.9", occurred_at=at(9))),
            (at(10), evidence_generated("v1.4.0", occurred_at=at(10), project="depot")),
        ],
        DEFAULT,
        [trigger(EVIDENCE_KEY, "critical", EVIDENCE_SUMMARY, at(0))],
        id="a pack generated for another tag or project resolves nothing",
    ),
    pytest.param(
        [(at(0), evidence_generated("v1.4.0", occurred_at=at(0)))],
        DEFAULT,
        [],
        id="a pack generated for a tag that never failed sends nothing",
    ),
    pytest.param(
        [
            (at(0), evidence_failed("v1.4.0", occurred_at=at(0))),
            (at(5), evidence_failed("v1.4.0", occurred_at=at(5), error="disk full")),
        ],
        DEFAULT,
        [trigger(EVIDENCE_KEY, "critical", EVIDENCE_SUMMARY, at(0))],
        id="a repeated failure for an open incident sends nothing new",
    ),
    pytest.param(
        [
            (at(0), evidence_failed("v1.4.0", occurred_at=at(0))),
            (at(5), evidence_generated("v1.4.0", occurred_at=at(5))),
            (at(6), evidence_generated("v1.4.0", occurred_at=at(6))),
            (at(7), evidence_failed("v1.4.0", occurred_at=at(7))),
        ],
        DEFAULT,
        [
            trigger(EVIDENCE_KEY, "critical", EVIDENCE_SUMMARY, at(0)),
            resolve(EVIDENCE_KEY, "critical", at(5)),
            trigger(EVIDENCE_KEY, "critical", EVIDENCE_SUMMARY, at(7)),
        ],
        id="a failure after the resolve opens a new incident and a second resolve sends nothing",
    ),
]


@pytest.mark.parametrize(("steps", "config", "expected"), EVIDENCE_ROWS)
def test_an_evidence_pack_failure_on_a_release_pages_critical(
    steps: Steps, config: Setup, expected: list[Sent]
) -> None:
    check(steps, config, expected)


# §1 post-release regression: error ----------------------------------------------------------

RELEASED: Steps = [(at(0), release("v1.4.0", occurred_at=at(0)))]
THREE_FAILING = {"nav/test_lidar": "failed", "arm/test_grip": "failed", "ui/test_map": "failed"}

REGRESSION_ROWS = [
    pytest.param(
        [
            *RELEASED,
            (
                at(10),
                completed_run({**THREE_FAILING, "ok/test_boot": "passed"}, occurred_at=at(10)),
            ),
        ],
        DEFAULT,
        [
            regression("nav/test_lidar", at(10)),
            regression("arm/test_grip", at(10)),
            regression("ui/test_map", at(10)),
        ],
        id="a failed run after a release with three failing tests opens three incidents",
    ),
    pytest.param(
        [*RELEASED, (at(10), completed_run(THREE_FAILING, occurred_at=at(10), pull_request=42))],
        DEFAULT,
        [],
        id="a failed pull request run never pages",
    ),
    pytest.param(
        [
            (at(0), release("v1.4.0", occurred_at=at(0), branch="feature/x")),
            (
                at(10),
                completed_run(
                    THREE_FAILING, occurred_at=at(10), branch="feature/x", default_branch=False
                ),
            ),
        ],
        DEFAULT,
        [],
        id="a failed run on another branch than the default never pages",
    ),
    pytest.param(
        [(at(10), completed_run(THREE_FAILING, occurred_at=at(10)))],
        DEFAULT,
        [],
        id="a failed run before any release never pages",
    ),
    pytest.param(
        [*RELEASED, (at(10), completed_run(THREE_FAILING, occurred_at=at(-5)))],
        DEFAULT,
        [],
        id="a failed run that happened before the release never pages even if it arrives later",
    ),
    pytest.param(
        [*RELEASED, (at(0), completed_run(THREE_FAILING, occurred_at=at(0)))],
        DEFAULT,
        [],
        id="a failed run at the very moment of the release is not after it",
    ),
    pytest.param(
        [
            (at(0), release("v1.4.0", occurred_at=at(0), branch="release/1.4")),
            (at(10), completed_run(THREE_FAILING, occurred_at=at(10))),
        ],
        DEFAULT,
        [],
        id="a release on another branch does not make a failure on the default branch page",
    ),
    pytest.param(
        [
            (at(0), release("v1.4.0", occurred_at=at(0), project="depot")),
            (at(10), completed_run(THREE_FAILING, occurred_at=at(10))),
        ],
        DEFAULT,
        [],
        id="a release in another project does not make a failure page",
    ),
    pytest.param(
        [*RELEASED, (at(10), completed_run(THREE_FAILING, occurred_at=at(10)))],
        without(Rule.POST_RELEASE_REGRESSION),
        [],
        id="with the rule off a post-release failure never pages",
    ),
    pytest.param(
        [
            *RELEASED,
            (at(10), completed_run(THREE_FAILING, occurred_at=at(10))),
            (
                at(20),
                completed_run(
                    {
                        "nav/test_lidar": "passed",
                        "arm/test_grip": "failed",
                        "ui/test_map": "failed",
                    },
                    occurred_at=at(20),
                    run_id="run-2",
                ),
            ),
            (
                at(30),
                completed_run(
                    {"arm/test_grip": "passed", "ui/test_map": "passed"}, occurred_at=at(30)
                ),
            ),
        ],
        DEFAULT,
        [
            regression("nav/test_lidar", at(10)),
            regression("arm/test_grip", at(10)),
            regression("ui/test_map", at(10)),
            resolve(regression_key("nav/test_lidar"), "error", at(20)),
            resolve(regression_key("arm/test_grip"), "error", at(30)),
            resolve(regression_key("ui/test_map"), "error", at(30)),
        ],
        id="a later passing run resolves that test only; still failing ones send nothing",
    ),
    pytest.param(
        [
            *RELEASED,
            (at(10), completed_run({"nav/test_lidar": "failed"}, occurred_at=at(10))),
            (at(20), completed_run({"nav/test_lidar": "passed"}, occurred_at=at(20))),
            (at(30), completed_run({"nav/test_lidar": "failed"}, occurred_at=at(30))),
        ],
        DEFAULT,
        [
            regression("nav/test_lidar", at(10)),
            resolve(regression_key("nav/test_lidar"), "error", at(20)),
            regression("nav/test_lidar", at(30)),
        ],
        id="a test failing again after its resolve opens a new incident",
    ),
    pytest.param(
        [
            *RELEASED,
            (at(10), completed_run({"nav/test_lidar": "failed"}, occurred_at=at(10))),
            (at(20), completed_run({"nav/test_lidar": "passed"}, occurred_at=at(5))),
        ],
        DEFAULT,
        [regression("nav/test_lidar", at(10))],
        id="a passing run older than the failure does not resolve it",
    ),
    pytest.param(
        [
            *RELEASED,
            (at(10), completed_run({"nav/test_lidar": "failed"}, occurred_at=at(10))),
            (
                at(20),
                completed_run(
                    {"nav/test_lidar": "passed"},
                    occurred_at=at(20),
                    branch="develop",
                    default_branch=False,
                ),
            ),
        ],
        DEFAULT,
        [regression("nav/test_lidar", at(10))],
        id="a test passing on another branch does not resolve it",
    ),
    pytest.param(
        [
            *RELEASED,
            (at(50), release("v1.5.0", occurred_at=at(50))),
            (at(60), release("v1.3.0", occurred_at=at(-60))),
            (at(70), completed_run({"nav/test_lidar": "failed"}, occurred_at=at(70))),
        ],
        DEFAULT,
        [regression("nav/test_lidar", at(70), tag="v1.5.0")],
        id="the page names the latest release on the branch, not the last one received",
    ),
    pytest.param(
        [
            *RELEASED,
            (at(50), release("v1.5.0", occurred_at=at(50))),
            (at(70), completed_run({"nav/test_lidar": "failed"}, occurred_at=at(40))),
        ],
        DEFAULT,
        [],
        id="a failed run from before the latest release on the branch never pages",
    ),
    pytest.param(
        [*RELEASED, (at(10), completed_run({"nav/test_lidar": "error"}, occurred_at=at(10)))],
        DEFAULT,
        [regression("nav/test_lidar", at(10))],
        id="a test that errored counts as failing",
    ),
    pytest.param(
        [
            *RELEASED,
            (
                at(10),
                completed_run({"nav/test_lidar": "skipped"}, occurred_at=at(10), status="failed"),
            ),
        ],
        DEFAULT,
        [],
        id="a failed run with no failing test pages nobody",
    ),
]


@pytest.mark.parametrize(("steps", "config", "expected"), REGRESSION_ROWS)
def test_a_post_release_regression_pages_one_incident_per_failing_test(
    steps: Steps, config: Setup, expected: list[Sent]
) -> None:
    check(steps, config, expected)


# §1 pinned standard amended: warning, off by default ----------------------------------------

AMENDMENT_ROWS = [
    pytest.param(
        [(at(0), amendment("ISO-26262", "A2", occurred_at=at(0)))],
        DEFAULT,
        [],
        id="a pinned standard amendment never pages by default",
    ),
    pytest.param(
        [(at(0), amendment("ISO-26262", "A2", occurred_at=at(0)))],
        ALL_ON,
        [trigger(AMENDMENT_KEY, "warning", AMENDMENT_SUMMARY, at(0))],
        id="with the rule on a pinned standard amendment pages warning",
    ),
    pytest.param(
        [(at(0), amendment("ISO-26262", "A2", occurred_at=at(0), title=None))],
        ALL_ON,
        [trigger(AMENDMENT_KEY, "warning", "Pinned standard ISO-26262 amended (A2)", at(0))],
        id="an amendment without a title says only which",
    ),
    pytest.param(
        [(at(0), amendment("ISO-26262", "A2", occurred_at=at(0), pinned=False))],
        ALL_ON,
        [],
        id="an amendment to a standard that is not pinned never pages",
    ),
    pytest.param(
        [
            (at(0), amendment("ISO-26262", "A2", occurred_at=at(0))),
            (at(5), amendment("ISO-26262", "A2", occurred_at=at(5))),
            *ticks(60, 6000),
            (at(6001), release("v9", occurred_at=at(6001))),
            (at(6002), completed_run({"A2": "passed"}, occurred_at=at(6002))),
            (at(6003), evidence_generated("A2", occurred_at=at(6003))),
        ],
        ALL_ON,
        [trigger(AMENDMENT_KEY, "warning", AMENDMENT_SUMMARY, at(0))],
        id="an amendment is never auto-resolved and a repeat sends nothing",
    ),
]


@pytest.mark.parametrize(("steps", "config", "expected"), AMENDMENT_ROWS)
def test_a_pinned_standard_amendment_pages_warning_only_when_switched_on(
    steps: Steps, config: Setup, expected: list[Sent]
) -> None:
    check(steps, config, expected)


# everything else never pages -----------------------------------------------------------------


@pytest.mark.parametrize(
    "event_type", ["deployment.finished", "runner_pool.degraded", "x", "test_run.started"]
)
def test_unknown_event_types_page_nobody_and_change_nothing(event_type: str) -> None:
    state = run([(at(0), airgapped_offline(0))]).state
    outcome = apply(state, unknown(event_type, occurred_at=at(1)), at(1), PolicyConfig())
    assert outcome.notifications == []
    assert outcome.state == state


def test_a_release_alone_pages_nobody_but_is_remembered_per_project_and_branch() -> None:
    outcome = apply(State(), release("v1.4.0", occurred_at=at(0)), at(0), PolicyConfig())
    assert outcome.notifications == []
    assert outcome.state == State(releases={("warehouse", "main"): Release("v1.4.0", at(0))})


def test_an_older_release_received_later_does_not_replace_the_latest() -> None:
    final = run(
        [
            (at(0), release("v1.5.0", occurred_at=at(0))),
            (at(1), release("v1.4.0", occurred_at=at(-100))),
        ]
    )
    assert final.state.releases == {("warehouse", "main"): Release("v1.5.0", at(0))}


# next_due: the scheduler's wake-up time ------------------------------------------------------


def test_next_due_is_none_when_nothing_is_watched() -> None:
    assert next_due(State()) is None


def test_next_due_reports_the_air_gapped_threshold_counted_from_the_heartbeat() -> None:
    state = run([(at(4), airgapped_offline(4, heartbeat=1))]).state
    assert next_due(state) == at(16)


def test_next_due_after_an_air_gapped_page_is_the_60_minute_threshold_of_the_any_pool_rule() -> (
    None
):
    # A connector with only "any pool offline" on is paged then.
    state = run([(at(4), airgapped_offline(4, heartbeat=1)), (at(16), Tick())]).state
    assert next_due(state) == at(61)


def test_next_due_after_both_pool_rules_fired_is_none() -> None:
    state = run([(at(4), airgapped_offline(4, heartbeat=1)), (at(61), Tick())]).state
    assert next_due(state) is None


def test_next_due_reports_the_60_minute_threshold_for_a_pool_that_is_not_air_gapped() -> None:
    state = run([(at(4), farm_offline(4, heartbeat=None))]).state
    assert next_due(state) == at(64)


def test_next_due_after_a_60_minute_page_is_none() -> None:
    state = run([(at(4), farm_offline(4, heartbeat=None)), (at(64), Tick())]).state
    assert next_due(state) is None


def test_next_due_is_the_earliest_threshold_over_all_pools() -> None:
    state = run([(at(0), farm_offline(0)), (at(1), airgapped_offline(1, heartbeat=1))]).state
    assert next_due(state) == at(16)


def test_next_due_follows_the_configured_thresholds() -> None:
    config = PolicyConfig(
        airgapped_offline_after=timedelta(minutes=3), pool_offline_after=timedelta(minutes=7)
    )
    state = run([(at(0), airgapped_offline(0)), (at(0), farm_offline(0))], config).state
    assert next_due(state) == at(3)
    state = run(
        [(at(0), airgapped_offline(0)), (at(0), farm_offline(0)), (at(3), Tick())], config
    ).state
    assert next_due(state) == at(7)


def test_next_due_does_not_depend_on_any_connectors_toggles() -> None:
    state = run([(at(0), airgapped_offline(0))], without(Rule.AIRGAPPED_POOL_OFFLINE)).state
    assert next_due(state) == at(15)


def test_next_due_is_none_once_a_pool_is_back_online() -> None:
    state = run(
        [(at(0), airgapped_offline(0)), (at(5), pool_online(AIRGAPPED, occurred_at=at(5)))]
    ).state
    assert next_due(state) is None
    assert state.conditions == {}


def test_a_tick_before_the_due_time_changes_nothing() -> None:
    state = run([(at(0), airgapped_offline(0))]).state
    outcome = apply(state, Tick(), at(14), PolicyConfig())
    assert outcome.notifications == []
    assert outcome.state == state


def test_a_tick_on_the_due_time_pages_and_moves_the_due_time_on() -> None:
    state = run([(at(0), farm_offline(0)), (at(0), airgapped_offline(0))]).state
    outcome = apply(state, Tick(), at(15), PolicyConfig())
    assert [n.dedup_key for n in outcome.notifications] == [AIRGAPPED_KEY]
    assert next_due(outcome.state) == at(60)


# notifications carry what the body builder needs ---------------------------------------------


def test_a_pool_page_carries_its_kind_rule_project_and_the_latest_details() -> None:
    final = run(
        [
            (at(0), airgapped_offline(0)),
            (
                at(10),
                pool_offline(
                    AIRGAPPED,
                    occurred_at=at(10),
                    airgapped=True,
                    last_heartbeat_at=at(0),
                    queued_jobs=30,
                ),
            ),
            (at(15), Tick()),
        ]
    )
    (page,) = final.notifications
    assert (page.action, page.kind, page.rule, page.project_slug) == (
        Action.TRIGGER,
        Kind.POOL_OFFLINE,
        Rule.AIRGAPPED_POOL_OFFLINE,
        "warehouse",
    )
    assert dict(page.details) == {
        "project_slug": "warehouse",
        "pool_name": AIRGAPPED,
        "pool_type": "self-hosted",
        "airgapped": True,
        "last_heartbeat_at": "2026-05-25T03:00:00Z",
        "queued_jobs": 30,
    }


def test_a_regression_page_carries_the_run_and_the_release() -> None:
    final = run(
        [
            *RELEASED,
            (at(10), completed_run({"nav/test_lidar": "failed"}, occurred_at=at(10), run_id=812)),
        ]
    )
    (page,) = final.notifications
    assert (page.kind, page.rule) == (Kind.POSTRELEASE_FAIL, Rule.POST_RELEASE_REGRESSION)
    assert dict(page.details) == {
        "project_slug": "warehouse",
        "branch": "main",
        "test_id": "nav/test_lidar",
        "run_id": 812,
        "release_tag": "v1.4.0",
    }


def test_an_evidence_page_carries_the_tag_ref_and_error() -> None:
    final = run([(at(0), evidence_failed("v1.4.0", occurred_at=at(0)))])
    (page,) = final.notifications
    assert (page.kind, page.rule) == (Kind.EVIDENCE_FAIL, Rule.EVIDENCE_PACK_FAILED)
    assert dict(page.details) == {
        "project_slug": "warehouse",
        "release_tag": "v1.4.0",
        "ref": "refs/tags/v1.4.0",
        "error": "signing key unavailable",
    }


def test_an_amendment_page_carries_the_standard_and_its_link() -> None:
    final = run([(at(0), amendment("ISO-26262", "A2", occurred_at=at(0)))], ALL_ON)
    (page,) = final.notifications
    assert (page.kind, page.rule) == (Kind.STANDARD_AMENDMENT, Rule.STANDARD_AMENDMENT)
    assert dict(page.details) == {
        "project_slug": "warehouse",
        "standard": "ISO-26262",
        "amendment": "A2",
        "title": "Functional safety, second amendment",
        "url": "https://standards.example/iso-26262/a2",
    }


def test_a_resolve_carries_the_rule_and_severity_of_the_page_it_closes() -> None:
    final = run(
        [
            (at(0), airgapped_offline(0)),
            (at(15), Tick()),
            (at(20), pool_online(AIRGAPPED, occurred_at=at(20))),
        ]
    )
    page, closed = final.notifications
    assert (closed.action, closed.kind, closed.rule, closed.severity) == (
        Action.RESOLVE,
        page.kind,
        page.rule,
        page.severity,
    )


# apply_all and scope ---------------------------------------------------------------------------


def test_apply_all_equals_applying_each_input_in_turn() -> None:
    items: list[Input] = [
        release("v1.4.0", occurred_at=at(-30)),
        airgapped_offline(-20, heartbeat=-20),
        farm_offline(-10, heartbeat=None),
        evidence_failed("v1.4.0", occurred_at=at(-5)),
        completed_run(THREE_FAILING, occurred_at=at(-1)),
        Tick(),
        pool_online(AIRGAPPED, occurred_at=at(0)),
    ]
    together = apply_all(State(), items, T0, PolicyConfig())
    one_by_one = run([(T0, items)])
    assert together.notifications == one_by_one.notifications
    assert together.state == one_by_one.state
    assert len(together.notifications) == 6


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param(
            airgapped_offline(0), Scope(frozenset({AIRGAPPED_KEY})), id="pool offline: its key"
        ),
        pytest.param(
            pool_online(FARM, occurred_at=at(0)), Scope(frozenset({FARM_KEY})), id="pool online"
        ),
        pytest.param(
            evidence_failed("v1.4.0", occurred_at=at(0)),
            Scope(frozenset({EVIDENCE_KEY})),
            id="evidence failed",
        ),
        pytest.param(
            evidence_generated("v1.4.0", occurred_at=at(0)),
            Scope(frozenset({EVIDENCE_KEY})),
            id="evidence generated",
        ),
        pytest.param(
            evidence_failed(None, occurred_at=at(0)), Scope(), id="evidence off a release"
        ),
        pytest.param(
            completed_run({"a": "failed", "b": "passed"}, occurred_at=at(0)),
            Scope(
                frozenset({regression_key("a"), regression_key("b")}),
                frozenset({("warehouse", "main")}),
            ),
            id="test run: its tests and its branch's release",
        ),
        pytest.param(
            release("v1", occurred_at=at(0), branch="rel"),
            Scope(release_keys=frozenset({("warehouse", "rel")})),
            id="release",
        ),
        pytest.param(
            amendment("ISO-26262", "A2", occurred_at=at(0)),
            Scope(frozenset({AMENDMENT_KEY})),
            id="amendment",
        ),
        pytest.param(unknown("deployment.finished", occurred_at=at(0)), Scope(), id="unknown"),
    ],
)
def test_scope_names_exactly_the_state_an_event_reads(item: Event, expected: Scope) -> None:
    assert engine.scope(item) == expected


def test_policy_config_refuses_negative_thresholds() -> None:
    with pytest.raises(ValueError, match="airgapped_offline_after must not be negative"):
        PolicyConfig(airgapped_offline_after=timedelta(minutes=-1))
    with pytest.raises(ValueError, match="pool_offline_after must not be negative"):
        PolicyConfig(pool_offline_after=timedelta(seconds=-1))


def test_a_new_connector_takes_every_rule_but_standard_amendments() -> None:
    assert Audience().rules == frozenset(
        {
            Rule.EVIDENCE_PACK_FAILED,
            Rule.AIRGAPPED_POOL_OFFLINE,
            Rule.POOL_OFFLINE,
            Rule.POST_RELEASE_REGRESSION,
        }
    )
    assert PolicyConfig().airgapped_offline_after == timedelta(minutes=15)
    assert PolicyConfig().pool_offline_after == timedelta(minutes=60)


# clock skew never silences a pool ------------------------------------------------------------

YEAR_2100 = datetime(2100, 1, 1, tzinfo=T0.tzinfo)


def test_a_heartbeat_in_the_future_counts_from_the_event_and_says_so() -> None:
    final = run(
        [
            (at(0), pool_offline(AIRGAPPED, occurred_at=at(0), airgapped=True,
                                 last_heartbeat_at=YEAR_2100)),
            *ticks(14),
            (at(15), Tick()),
        ]
    )  # fmt: skip
    assert final.sent() == [airgapped_page(15, at(15))]
    (page,) = final.paged
    assert page.details["clock_skew"] == (
        "last_heartbeat_at 2100-01-01T00:00:00Z is later than the event; offline time counts "
        "from 2026-05-25T03:00:00Z"
    )


def test_a_pool_once_reported_with_a_future_heartbeat_still_pages_on_a_later_outage() -> None:
    final = run(
        [
            (at(0), pool_offline(FARM, occurred_at=at(0), last_heartbeat_at=YEAR_2100)),
            (at(30), farm_offline(30, heartbeat=29)),
            (at(61), Tick()),
        ]
    )
    assert final.sent() == [farm_page(61, at(61))]


def test_an_event_from_a_clock_running_ahead_counts_from_now() -> None:
    final = run([(at(0), airgapped_offline(30, heartbeat=None)), (at(15), Tick())])
    assert final.sent() == [airgapped_page(15, at(15))]
    assert final.paged[0].details["clock_skew"] == (
        "occurred_at 2026-05-25T03:30:00Z is later than now; offline time counts from "
        "2026-05-25T03:00:00Z"
    )

"""The pipeline's stages one at a time: route, rule toggles, severity cap, suppression, storm."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from rbtk.outbox.pipeline.lanes import Lane
from rbtk.outbox.pipeline.stages import Paging, Send, cap, route, storm, suppress, toggles
from rbtk.outbox.pipeline.storm_gate import Gate
from rbtk.policy.rules import EVENT_TYPE, Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Kind, Notification
from rbtk.routing.pagerduty import RouteRule, Target
from rbtk.routing.storms import OpenStorm, StormRule
from rbtk.routing.suppression import Window

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)
KEY = "rbtk:pool-offline:warehouse:onprem-1"


def target(
    id: int,
    name: str,
    *,
    rules: frozenset[Rule] = frozenset(Rule),
    is_default: bool = True,
    max_severity: Severity | None = None,
    send_info: bool = False,
    storm: StormRule | None = None,
) -> Target:
    return Target(id, name, b"key", "fp", "us", rules, send_info, is_default, max_severity, storm)


def trigger(rule: Rule = Rule.AIRGAPPED_POOL_OFFLINE, severity: Severity = Severity.CRITICAL,
            project: str = "warehouse") -> Notification:  # fmt: skip
    return Notification(
        Action.TRIGGER, KEY, Kind.POOL_OFFLINE, rule, severity, "offline", project, T0, {},
        event_id="ev-1", event_type=EVENT_TYPE[rule],
    )  # fmt: skip


def paging(*targets: Target, rules: list[RouteRule] | None = None) -> Paging:
    return Paging(list(targets), rules or [], [], {}, T0)


def lane(connector_id: int, **changes: Any) -> Lane:
    return replace(Lane(connector_id, KEY, b"key", "fp", "us", T0), **changes)


def names(sends: list[Send]) -> list[tuple[str, Severity]]:
    return [(s.target.name, s.severity) for s in sends]


def test_route_sends_to_the_connectors_the_first_matching_rule_names() -> None:
    rule = RouteRule.from_json(
        {"position": 1, "project": "warehouse", "event_type": None, "connectors": ["pd-b"]}
    )
    here = paging(target(1, "pd-a"), target(2, "pd-b", is_default=False), rules=[rule])

    assert names(route(trigger(), here)) == [("pd-b", Severity.CRITICAL)]
    assert names(route(trigger(project="lab"), here)) == [("pd-a", Severity.CRITICAL)]


def test_toggles_keep_only_connectors_that_take_the_rule() -> None:
    here = paging(target(1, "pd-a", rules=frozenset({Rule.POOL_OFFLINE})), target(2, "pd-b"))

    assert names(toggles(route(trigger(), here), here)) == [("pd-b", Severity.CRITICAL)]
    assert here.reasons == {"ev-1": ["rule airgapped_pool_offline is switched off on pd-a"]}


def test_route_says_when_no_connector_takes_a_trigger() -> None:
    here = paging(target(1, "pd-a", is_default=False))

    assert route(trigger(), here) == []
    [reason] = here.reasons["ev-1"]
    assert reason.startswith("no connector takes it")


def test_cap_lowers_to_the_connectors_cap_and_drops_what_its_lane_was_already_sent() -> None:
    here = paging(target(1, "pd-staging", max_severity=Severity.WARNING), target(2, "pd-b"))
    here.lanes[(2, KEY)] = lane(2, severity=Severity.CRITICAL, announced=True)

    assert names(cap(route(trigger(), here), here)) == [("pd-staging", Severity.WARNING)]
    assert here.reasons == {"ev-1": ["pd-b was already paged at critical"]}


def test_cap_drops_info_for_a_connector_that_does_not_send_it() -> None:
    here = paging(
        target(1, "pd-a", max_severity=Severity.INFO),
        target(2, "pd-b", max_severity=Severity.INFO, send_info=True),
    )

    assert names(cap(route(trigger(), here), here)) == [("pd-b", Severity.INFO)]
    assert here.reasons == {"ev-1": ["pd-a does not send info"]}


def test_suppress_marks_what_a_window_covering_the_connector_holds_back() -> None:
    window = Window(7, 1, T0 - timedelta(minutes=5), T0 + timedelta(hours=1), "Maintenance")
    here = paging(target(1, "pd-a"), target(2, "pd-b"))
    here.windows.append(window)

    held = suppress(route(trigger(), here), here)

    assert [(s.target.name, s.window) for s in held] == [("pd-a", window), ("pd-b", None)]
    assert here.reasons == {
        "ev-1": [
            "held on pd-a: suppression #7 until 2026-05-25 03:00 UTC (Maintenance); "
            "sent then if still firing"
        ]
    }
    here.now = window.ends_at
    assert [s.window for s in suppress(route(trigger(), here), here)] == [
        None,
        None,
    ]


def test_storm_passes_every_trigger_where_no_storm_is_detected() -> None:
    here = paging(target(1, "pd-a"), target(2, "pd-b"))
    sends = route(trigger(), here)

    assert storm(sends, here) == sends


def test_storm_holds_a_new_incident_of_a_connector_in_a_storm_as_its_member() -> None:
    rule = StormRule(20, timedelta(seconds=60))
    here = paging(target(1, "pd-a", storm=rule), target(2, "pd-b"))  # collapse off
    raging = OpenStorm(3, 1, "rbtk:storm:pd-a:20260525T015900Z", T0 - timedelta(minutes=1))
    here.gate = Gate(None, {1: raging}, T0)  # type: ignore[arg-type]  # reads nothing here

    assert [(s.target.name, s.storm) for s in storm(route(trigger(), here), here)] == [
        ("pd-a", raging),
        ("pd-b", None),
    ]


def test_storm_lets_a_severity_rise_of_an_incident_paged_before_the_storm_through() -> None:
    rule = StormRule(20, timedelta(seconds=60))
    here = paging(target(1, "pd-a", storm=rule))
    here.lanes[(1, KEY)] = lane(1, announced=True, severity=Severity.ERROR)
    raging = OpenStorm(3, 1, "rbtk:storm:pd-a:20260525T015900Z", T0 - timedelta(minutes=1))
    here.gate = Gate(None, {1: raging}, T0)  # type: ignore[arg-type]

    assert [s.storm for s in storm(route(trigger(), here), here)] == [None]


def test_storm_leaves_what_a_window_holds_to_the_window() -> None:
    rule = StormRule(20, timedelta(seconds=60))
    window = Window(7, 1, T0 - timedelta(minutes=5), T0 + timedelta(hours=1), "Maintenance")
    here = paging(target(1, "pd-a", storm=rule))
    here.windows.append(window)
    raging = OpenStorm(3, 1, "rbtk:storm:pd-a:20260525T015900Z", T0 - timedelta(minutes=1))
    here.gate = Gate(None, {1: raging}, T0)  # type: ignore[arg-type]

    [held] = storm(suppress(route(trigger(), here), here), here)

    assert (held.window, held.storm) == (window, None)

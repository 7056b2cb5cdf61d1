"""Severity mapping, and the order the policy uses to tell a rise."""

import pytest

from rbtk.policy.rules import EVENT_TYPE, SEVERITY, Rule
from rbtk.policy.severity import Severity, is_sent


@pytest.mark.parametrize(
    ("severity", "pagerduty", "urgency"),
    [
        pytest.param(Severity.CRITICAL, "critical", "high", id="critical is critical, high"),
        pytest.param(Severity.ERROR, "error", "high", id="error is error, high"),
        pytest.param(Severity.WARNING, "warning", "low", id="warning is warning, low"),
        pytest.param(Severity.INFO, "info", "low", id="info is info, low"),
    ],
)
def test_each_severity_maps_to_pagerdutys_severity_and_default_urgency(
    severity: Severity, pagerduty: str, urgency: str
) -> None:
    assert severity.value == pagerduty
    assert severity.urgency == urgency


def test_info_is_not_sent_unless_the_connector_opts_in() -> None:
    assert is_sent(Severity.INFO, send_info=False) is False
    assert is_sent(Severity.INFO, send_info=True) is True


@pytest.mark.parametrize("severity", [Severity.WARNING, Severity.ERROR, Severity.CRITICAL])
@pytest.mark.parametrize("send_info", [False, True])
def test_every_severity_above_info_is_always_sent(severity: Severity, send_info: bool) -> None:
    assert is_sent(severity, send_info=send_info) is True


def test_severities_are_ordered_info_warning_error_critical() -> None:
    ordered = [Severity.INFO, Severity.WARNING, Severity.ERROR, Severity.CRITICAL]
    assert sorted(reversed(ordered)) == ordered
    assert [s.rank for s in ordered] == [0, 1, 2, 3]
    assert Severity.CRITICAL > Severity.ERROR > Severity.WARNING > Severity.INFO
    assert Severity.INFO < Severity.WARNING < Severity.ERROR < Severity.CRITICAL
    assert Severity.ERROR >= Severity.ERROR
    assert Severity.ERROR <= Severity.ERROR
    assert not Severity.ERROR > Severity.ERROR
    # Not the alphabetical order a plain string comparison would give.
    assert Severity.WARNING < Severity.ERROR
    assert max(ordered) is Severity.CRITICAL


@pytest.mark.parametrize(
    ("rule", "severity", "event_type"),
    [
        pytest.param(
            Rule.EVIDENCE_PACK_FAILED,
            Severity.CRITICAL,
            "evidence_pack.generation_failed",
            id="evidence pack failed on a release: critical",
        ),
        pytest.param(
            Rule.AIRGAPPED_POOL_OFFLINE,
            Severity.CRITICAL,
            "runner_pool.offline",
            id="air-gapped pool offline: critical",
        ),
        pytest.param(
            Rule.POOL_OFFLINE, Severity.ERROR, "runner_pool.offline", id="any pool offline: error"
        ),
        pytest.param(
            Rule.POST_RELEASE_REGRESSION,
            Severity.ERROR,
            "test_run.completed",
            id="post-release regression: error",
        ),
        pytest.param(
            Rule.STANDARD_AMENDMENT,
            Severity.WARNING,
            "standard.amendment_published",
            id="pinned standard amended: warning",
        ),
    ],
)
def test_each_rule_has_the_documented_severity_and_event_type(
    rule: Rule, severity: Severity, event_type: str
) -> None:
    assert SEVERITY[rule] is severity
    assert EVENT_TYPE[rule] == event_type


def test_every_rule_has_a_severity_and_an_event_type() -> None:
    assert set(SEVERITY) == set(EVENT_TYPE) == set(Rule)

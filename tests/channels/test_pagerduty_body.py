"""PagerDuty Events API v2 request bodies: exact, valid, and within limits."""

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from rbtk.channels.pagerduty_body import (
    MAX_BODY_BYTES,
    MAX_SUMMARY,
    TRUNCATED,
    encode,
    resolve_body,
    trigger_body,
)
from rbtk.policy.rules import PolicyConfig, Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import Action, Kind, Notification, Tick
from tests.channels.pagerduty_schema import problems
from tests.policy.factories import (
    amendment,
    at,
    completed_run,
    evidence_failed,
    pool_offline,
    pool_online,
    release,
    run,
)

ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"
BASE_URL = "https://roboticks.example"
POOL_KEY = "rbtk:pool-offline:warehouse:onprem-airgapped"


def notification(
    *,
    kind: Kind = Kind.EVIDENCE_FAIL,
    summary: str = "Evidence pack generation failed for release v1.4.0 of warehouse",
    details: dict[str, Any] | None = None,
    dedup_key: str = "rbtk:evidence-fail:warehouse:v1.4.0",
    severity: Severity = Severity.CRITICAL,
    moment: datetime | None = None,
) -> Notification:
    return Notification(
        Action.TRIGGER,
        dedup_key,
        kind,
        None,
        severity,
        summary,
        "warehouse",
        moment or at(0),
        {"project_slug": "warehouse", "release_tag": "v1.4.0", "ref": None, "error": None}
        if details is None
        else details,
    )


def valid(body: dict[str, Any]) -> dict[str, Any]:
    assert problems(body) == []
    return body


def test_the_pool_offline_example_is_exactly_the_documented_body() -> None:
    final = run(
        [
            (
                at(0),
                pool_offline(
                    "onprem-airgapped",
                    occurred_at=at(-2),
                    airgapped=True,
                    last_heartbeat_at=at(-17),
                    pool_type="self-hosted",
                    queued_jobs=12,
                ),
            )
        ]
    )
    (page,) = final.notifications
    assert valid(trigger_body(page, ROUTING_KEY, base_url=BASE_URL)) == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": POOL_KEY,
        "payload": {
            "summary": "Air-gapped pool onprem-airgapped offline for 17 minutes",
            "severity": "critical",
            "source": "roboticks/warehouse",
            "component": "runner-pool",
            "group": "platform",
            "class": "runner_pool_offline",
            "custom_details": {
                "project_slug": "warehouse",
                "pool_name": "onprem-airgapped",
                "pool_type": "self-hosted",
                "airgapped": True,
                "last_heartbeat_at": "2026-05-25T02:43:00Z",
                "queued_jobs": 12,
            },
            "timestamp": "2026-05-25T03:00:00Z",
        },
        "links": [
            {
                "href": "https://roboticks.example/r/warehouse/pools/onprem-airgapped",
                "text": "View pool in Roboticks",
            }
        ],
        "client": "Roboticks",
        "client_url": "https://roboticks.example",
    }


def test_a_threshold_under_a_minute_is_sent_in_seconds_as_the_demo_pages() -> None:
    # As RBTK_AIRGAPPED_OFFLINE_MINUTES=0.166667 makes it: rbtk demo's 10 s.
    threshold = timedelta(minutes=0.166667)
    final = run(
        [
            (at(0), pool_offline("onprem-airgapped", occurred_at=at(0), airgapped=True)),
            (at(0) + threshold, Tick()),
        ],
        PolicyConfig(airgapped_offline_after=threshold),
    )
    (page,) = final.notifications

    body = valid(trigger_body(page, ROUTING_KEY, base_url=BASE_URL))
    assert body["payload"]["summary"] == "Air-gapped pool onprem-airgapped offline for 10 seconds"


def test_the_resolve_body_has_only_the_routing_key_the_action_and_the_same_key() -> None:
    final = run(
        [
            (at(0), pool_offline("onprem-airgapped", occurred_at=at(0), airgapped=True)),
            (at(15), Tick()),
            (at(20), pool_online("onprem-airgapped", occurred_at=at(20))),
        ]
    )
    page, closed = final.notifications
    body = resolve_body(closed.dedup_key, ROUTING_KEY)
    assert valid(body) == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": POOL_KEY,
    }
    assert body["dedup_key"] == trigger_body(page, ROUTING_KEY, base_url=BASE_URL)["dedup_key"]


def test_a_resolve_of_a_long_key_uses_the_same_capped_key_as_its_trigger() -> None:
    long_key = "rbtk:pool-offline:warehouse:" + "p" * 400
    trigger = trigger_body(notification(dedup_key=long_key), ROUTING_KEY, base_url=BASE_URL)
    resolve = valid(resolve_body(long_key, ROUTING_KEY))
    assert resolve["dedup_key"] == trigger["dedup_key"]
    assert len(resolve["dedup_key"]) == 255
    assert resolve["dedup_key"].startswith("rbtk:pool-offline:warehouse:ppp")


def test_an_evidence_failure_body_links_to_the_release() -> None:
    (page,) = run([(at(0), evidence_failed("v1.4.0", occurred_at=at(0)))]).notifications
    assert valid(trigger_body(page, ROUTING_KEY, base_url=BASE_URL)) == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "rbtk:evidence-fail:warehouse:v1.4.0",
        "payload": {
            "summary": "Evidence pack generation failed for release v1.4.0 of warehouse: "
            "signing key unavailable",
            "severity": "critical",
            "source": "roboticks/warehouse",
            "component": "evidence-pack",
            "group": "compliance",
            "class": "evidence_pack_failed",
            "custom_details": {
                "project_slug": "warehouse",
                "release_tag": "v1.4.0",
                "ref": "refs/tags/v1.4.0",
                "error": "signing key unavailable",
            },
            "timestamp": "2026-05-25T03:00:00Z",
        },
        "links": [
            {
                "href": "https://roboticks.example/r/warehouse/releases/v1.4.0",
                "text": "View release in Roboticks",
            }
        ],
        "client": "Roboticks",
        "client_url": "https://roboticks.example",
    }


RUNBOOKS = {
    Rule.EVIDENCE_PACK_FAILED: "https://wiki.roboticks.example/runbooks/evidence",
    Rule.POOL_OFFLINE: "https://wiki.roboticks.example/runbooks/pools",
}


def test_the_runbook_of_the_incidents_rule_follows_its_roboticks_link() -> None:
    (page,) = run([(at(0), evidence_failed("v1.4.0", occurred_at=at(0)))]).notifications

    body = valid(trigger_body(page, ROUTING_KEY, base_url=BASE_URL, runbooks=RUNBOOKS))

    assert body["links"] == [
        {
            "href": "https://roboticks.example/r/warehouse/releases/v1.4.0",
            "text": "View release in Roboticks",
        },
        {
            "href": "https://wiki.roboticks.example/runbooks/evidence",
            "text": "Runbook: evidence_pack_failed",
        },
    ]


def test_another_rules_runbook_is_not_linked() -> None:
    only_pools = {Rule.POOL_OFFLINE: RUNBOOKS[Rule.POOL_OFFLINE]}
    (page,) = run([(at(0), evidence_failed("v1.4.0", occurred_at=at(0)))]).notifications

    body = trigger_body(page, ROUTING_KEY, base_url=BASE_URL, runbooks=only_pools)

    assert [link["text"] for link in body["links"]] == ["View release in Roboticks"]


def test_a_notification_of_no_rule_gets_no_runbook_even_when_every_rule_has_one() -> None:
    every = dict.fromkeys(Rule, "https://wiki.roboticks.example/runbooks/any")
    storm = notification(kind=Kind.STORM, details={"members_page": "https://rbtk.test/s/1"})

    body = trigger_body(storm, ROUTING_KEY, base_url=BASE_URL, runbooks=every)

    assert [link["text"] for link in body["links"]] == ["Every member, in rbtk"]


def test_a_regression_body_links_to_the_failing_run() -> None:
    final = run(
        [
            (at(0), release("v1.4.0", occurred_at=at(0))),
            (at(9), completed_run({"nav/test_lidar": "failed"}, occurred_at=at(9), run_id=812)),
        ]
    )
    (page,) = final.notifications
    assert valid(trigger_body(page, ROUTING_KEY, base_url=BASE_URL)) == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "rbtk:postrelease-fail:warehouse:main:nav/test_lidar",
        "payload": {
            "summary": "Test nav/test_lidar failing on main of warehouse after release v1.4.0",
            "severity": "error",
            "source": "roboticks/warehouse",
            "component": "test-run",
            "group": "ci",
            "class": "post_release_regression",
            "custom_details": {
                "project_slug": "warehouse",
                "branch": "main",
                "test_id": "nav/test_lidar",
                "run_id": 812,
                "release_tag": "v1.4.0",
            },
            "timestamp": "2026-05-25T03:09:00Z",
        },
        "links": [
            {
                "href": "https://roboticks.example/r/warehouse/runs/812",
                "text": "View test run in Roboticks",
            }
        ],
        "client": "Roboticks",
        "client_url": "https://roboticks.example",
    }


def test_an_amendment_body_links_to_the_amendment_itself() -> None:
    (page,) = run([(at(0), amendment("ISO-26262", "A2", occurred_at=at(0)))]).notifications
    body = valid(trigger_body(page, ROUTING_KEY, base_url=BASE_URL))
    assert body["payload"] == {
        "summary": "Pinned standard ISO-26262 amended (A2): Functional safety, second amendment",
        "severity": "warning",
        "source": "roboticks/warehouse",
        "component": "standard",
        "group": "compliance",
        "class": "standard_amendment",
        "custom_details": {
            "project_slug": "warehouse",
            "standard": "ISO-26262",
            "amendment": "A2",
            "title": "Functional safety, second amendment",
            "url": "https://standards.example/iso-26262/a2",
        },
        "timestamp": "2026-05-25T03:00:00Z",
    }
    assert body["links"] == [
        {"href": "https://standards.example/iso-26262/a2", "text": "Read the amendment"}
    ]


def test_an_amendment_without_a_url_has_no_links() -> None:
    event = amendment("ISO-26262", "A2", occurred_at=at(0), url=None)
    (page,) = run([(at(0), event)]).notifications
    assert valid(trigger_body(page, ROUTING_KEY, base_url=BASE_URL))["links"] == []


def test_a_test_event_body_is_classified_as_a_test_with_no_links() -> None:
    note = notification(
        kind=Kind.TEST,
        summary="Test event from rbtk",
        details={"connector": "pd-production"},
        dedup_key="rbtk:test:pd-production:01J0XYZ",
        severity=Severity.INFO,
    )
    body = valid(trigger_body(note, ROUTING_KEY, base_url=BASE_URL))
    assert (body["payload"]["component"], body["payload"]["group"], body["payload"]["class"]) == (
        "rbtk",
        "rbtk",
        "test_event",
    )
    assert body["payload"]["severity"] == "info"
    assert body["links"] == []


@pytest.mark.parametrize("severity", list(Severity))
def test_each_severity_is_sent_as_pagerdutys_own_value(severity: Severity) -> None:
    body = valid(trigger_body(notification(severity=severity), ROUTING_KEY, base_url=BASE_URL))
    assert body["payload"]["severity"] == severity.value


def test_a_trailing_slash_on_the_base_url_does_not_double_the_slash_in_links() -> None:
    (page,) = run(
        [(at(20), pool_offline("gpu", occurred_at=at(20), airgapped=True, last_heartbeat_at=at(0)))]
    ).notifications
    body = valid(trigger_body(page, ROUTING_KEY, base_url="https://roboticks.example/"))
    assert body["links"][0]["href"] == "https://roboticks.example/r/warehouse/pools/gpu"


def test_link_path_segments_are_percent_encoded() -> None:
    pool = "gpu pool/eu?#1"
    (page,) = run(
        [(at(20), pool_offline(pool, occurred_at=at(20), airgapped=True, last_heartbeat_at=at(0)))]
    ).notifications
    body = valid(trigger_body(page, ROUTING_KEY, base_url=BASE_URL))
    assert body["links"][0]["href"] == (
        "https://roboticks.example/r/warehouse/pools/gpu%20pool%2Feu%3F%231"
    )


def test_the_timestamp_is_when_the_policy_decided_in_rfc3339_utc() -> None:
    note = notification(moment=at(17, seconds=30.25))
    body = trigger_body(note, ROUTING_KEY, base_url=BASE_URL)
    assert body["payload"]["timestamp"] == "2026-05-25T03:17:30.250000Z"


# limits: truncate sensibly, never fail --------------------------------------------------------


def test_a_summary_of_exactly_1024_characters_is_kept_whole() -> None:
    summary = "s" * MAX_SUMMARY
    body = trigger_body(notification(summary=summary), ROUTING_KEY, base_url=BASE_URL)
    assert body["payload"]["summary"] == summary


def test_a_long_summary_is_cut_to_1024_characters_ending_in_an_ellipsis() -> None:
    summary = "Evidence pack generation failed: " + "x" * 5000
    body = valid(trigger_body(notification(summary=summary), ROUTING_KEY, base_url=BASE_URL))
    assert body["payload"]["summary"] == summary[:1023] + "…"
    assert len(body["payload"]["summary"]) == 1024


def test_a_huge_error_is_cut_in_the_summary_and_in_the_details_with_a_marker() -> None:
    error = "stack frame\n" * 60_000
    (page,) = run(
        [(at(0), evidence_failed("v1.4.0", occurred_at=at(0), error=error))]
    ).notifications
    body = valid(trigger_body(page, ROUTING_KEY, base_url=BASE_URL))
    assert len(encode(body)) <= MAX_BODY_BYTES
    summary = body["payload"]["summary"]
    assert len(summary) == 1024
    assert summary.startswith("Evidence pack generation failed for release v1.4.0 of warehouse: ")
    assert summary.endswith("…")
    assert body["payload"]["custom_details"] == {
        "project_slug": "warehouse",
        "release_tag": "v1.4.0",
        "ref": "refs/tags/v1.4.0",
        "error": error[:16_383] + "…",
        TRUNCATED: True,
    }


def test_details_in_multibyte_characters_are_measured_in_encoded_bytes() -> None:
    error = "😀" * 200_000  # 800,000 bytes in UTF-8 but only 200,000 characters
    note = notification(kind=Kind.TEST, details={"error": error})
    body = valid(trigger_body(note, ROUTING_KEY, base_url=BASE_URL))
    assert len(encode(body)) <= MAX_BODY_BYTES
    assert body["payload"]["custom_details"] == {"error": "😀" * 16_383 + "…", TRUNCATED: True}


def test_many_large_details_are_cut_further_until_the_body_fits() -> None:
    details = {f"field-{n}": "d" * 20_000 for n in range(100)}
    body = valid(
        trigger_body(notification(kind=Kind.TEST, details=details), ROUTING_KEY, base_url=BASE_URL)
    )
    assert len(encode(body)) <= MAX_BODY_BYTES
    custom = body["payload"]["custom_details"]
    assert custom[TRUNCATED] is True
    assert custom["field-0"] == "d" * 4_095 + "…"
    assert len(custom) == 101


def test_details_that_cannot_be_cut_small_enough_are_dropped_with_a_note() -> None:
    leaf = ["abcdefgh"] * 64
    details = {"matrix": [[leaf] * 64] * 64}
    body = valid(
        trigger_body(notification(kind=Kind.TEST, details=details), ROUTING_KEY, base_url=BASE_URL)
    )
    assert len(encode(body)) <= MAX_BODY_BYTES
    assert body["payload"]["custom_details"] == {
        TRUNCATED: "details dropped: over PagerDuty's size limit"
    }


def test_a_body_within_the_limit_is_left_untouched_and_unmarked() -> None:
    details = {"error": "e" * 400_000}
    body = trigger_body(
        notification(kind=Kind.TEST, details=details), ROUTING_KEY, base_url=BASE_URL
    )
    assert body["payload"]["custom_details"] == details
    assert TRUNCATED not in body["payload"]["custom_details"]


def test_a_link_too_long_for_pagerduty_is_left_out_rather_than_failing() -> None:
    url = "https://standards.example/" + "a" * 3000
    (page,) = run([(at(0), amendment("ISO-26262", "A2", occurred_at=at(0), url=url))]).notifications
    body = valid(trigger_body(page, ROUTING_KEY, base_url=BASE_URL))
    assert body["links"] == []
    assert body["payload"]["custom_details"]["url"] == url


def test_building_a_body_never_changes_the_notification() -> None:
    details = {"error": "e" * 700_000, "nested": {"a": ["b" * 20_000]}}
    note = notification(kind=Kind.TEST, details=details)
    before = json.dumps(details)
    trigger_body(note, ROUTING_KEY, base_url=BASE_URL)
    assert json.dumps(note.details) == before
    assert note.details is details


def test_encode_is_compact_utf8_so_the_size_checked_is_the_size_sent() -> None:
    assert encode({"a": "é", "b": [1, True, None]}) == '{"a":"é","b":[1,true,null]}'.encode()


def test_the_schema_check_itself_catches_bodies_pagerduty_would_refuse() -> None:
    body = trigger_body(notification(), ROUTING_KEY, base_url=BASE_URL)
    broken = {
        **body,
        "routing_key": "y_NbAkKc66ryYTWUXYEu",
        "payload": {**body["payload"], "severity": "fatal"},
    }
    assert problems(broken) == [
        "payload/severity: 'fatal' is not one of ['critical', 'error', 'warning', 'info']",
        "payload/severity: 'fatal' is not one of ['critical', 'warning', 'error', 'info']",
        "routing_key: 'y_NbAkKc66ryYTWUXYEu' is too short",
    ]
    assert problems({"routing_key": ROUTING_KEY, "event_action": "resolve"}) == [
        "<body>: 'dedup_key' is a required property"
    ]

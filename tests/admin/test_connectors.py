"""Connectors: validation, toggles, key rotation and removal, on both databases."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select

from rbtk.admin import connectors, routing
from rbtk.admin.connector_settings import InvalidConnector, Storm
from rbtk.admin.connectors import (
    ConnectorInUse,
    DuplicateConnector,
    InvalidKey,
    LastDelivery,
    UnknownConnector,
)
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.policy.rules import Rule
from rbtk.policy.severity import Severity
from rbtk.routing.pagerduty import RouteRule, load_targets
from rbtk.runtime.secrets import Secret
from rbtk.store.tables import connectors as connectors_table
from rbtk.store.tables import incidents, outbox, routing_rules
from tests.factories import add_chat_row, settings_from

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
NEW_KEY = "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4"
MAY_25 = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)
WHERE = "the Integration Key from the service's Events API v2 integration in PagerDuty"

DEFAULT_RULES = {
    Rule.EVIDENCE_PACK_FAILED: True,
    Rule.AIRGAPPED_POOL_OFFLINE: True,
    Rule.POOL_OFFLINE: True,
    Rule.POST_RELEASE_REGRESSION: True,
    Rule.STANDARD_AMENDMENT: False,
}


def add(context: Context, name: str = "pd-production", **options: Any) -> connectors.ConnectorView:
    with context.engine.begin() as connection:
        return connectors.add(
            connection, vault=context.vault, name=name, key=options.pop("key", KEY),
            settings=settings_from(options), by="test", now=MAY_25, **options,
        )  # fmt: skip


def evidence_event(event_id: str, event_type: str, tag: str = "v1.4.0") -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T03:00:00Z",
        "data": {"release_tag": tag},
    }


def rows(connection: Connection, table: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in connection.execute(select(table))]


# the integration key


def test_a_32_character_key_of_letters_and_digits_is_accepted() -> None:
    assert connectors.validate_key(KEY) == Secret(KEY)


def test_spaces_and_line_breaks_pasted_around_a_key_are_dropped() -> None:
    assert connectors.validate_key(f"  {KEY}\r\n") == Secret(KEY)


def test_a_20_character_key_is_refused_as_a_rest_api_key() -> None:
    with pytest.raises(InvalidKey) as raised:
        connectors.validate_key("y_NbAkKc66ryYTWUXYEu")

    assert str(raised.value) == (
        "this looks like a REST API key (20 characters): the Events API needs the "
        f"32-character Integration Key instead; copy {WHERE}"
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        pytest.param(
            KEY[:31],
            f"the integration key has 31 characters: expected exactly 32 letters and digits, "
            f"{WHERE}",
            id="one character short",
        ),
        pytest.param(
            KEY + "Q",
            f"the integration key has 33 characters: expected exactly 32 letters and digits, "
            f"{WHERE}",
            id="one character long",
        ),
        pytest.param(
            KEY[:16] + " " + KEY[17:],
            "the integration key has 32 characters, including 1 whitespace character: expected "
            f"exactly 32 letters and digits, {WHERE}",
            id="a space inside",
        ),
        pytest.param(
            KEY[:30] + "-_",
            "the integration key has 32 characters, including 2 symbol characters: expected "
            f"exactly 32 letters and digits, {WHERE}",
            id="symbols",
        ),
        pytest.param(
            KEY[:31] + "é",
            "the integration key has 32 characters, including 1 non-ASCII character: expected "
            f"exactly 32 letters and digits, {WHERE}",
            id="non-ASCII letter",
        ),
        pytest.param(
            "",
            f"the integration key is empty: expected {WHERE} (32 letters and digits)",
            id="empty",
        ),
    ],
)
def test_other_key_shapes_are_refused_saying_what_was_received_and_what_is_expected(
    key: str, message: str
) -> None:
    with pytest.raises(InvalidKey) as raised:
        connectors.validate_key(key)

    assert str(raised.value) == message
    assert isinstance(raised.value, ValueError)


def test_a_refused_key_is_never_echoed() -> None:
    for key in (KEY[:31], KEY + "!", KEY[:16] + " " + KEY[17:], KEY[:20]):
        with pytest.raises(InvalidKey) as raised:
            connectors.validate_key(key)
        assert key.strip()[:16] not in str(raised.value)


# the name


@pytest.mark.parametrize("name", ["pd-production", "a", "0-ops", "x" * 64])
def test_lower_case_slugs_up_to_64_characters_are_valid_names(name: str) -> None:
    assert connectors.validate_name(name) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "name: must not be empty; use a slug such as 'pd-production'"),
        ("x" * 65, "name: must be at most 64 characters, got 65"),
        (
            "PD-Production",
            "name: 'PD-Production' is not a lower-case slug: use a-z, 0-9 and '-', starting "
            "with a letter or digit, e.g. 'pd-production'",
        ),
        (
            "-ops",
            "name: '-ops' is not a lower-case slug: use a-z, 0-9 and '-', starting with a "
            "letter or digit, e.g. 'pd-production'",
        ),
        (
            "pd production",
            "name: 'pd production' is not a lower-case slug: use a-z, 0-9 and '-', starting "
            "with a letter or digit, e.g. 'pd-production'",
        ),
    ],
)
def test_other_names_are_refused_with_what_a_name_may_be(name: str, message: str) -> None:
    with pytest.raises(InvalidConnector) as raised:
        connectors.validate_name(name)

    assert str(raised.value) == message


# adding


def test_a_new_connector_has_the_default_toggles_and_shows_its_key_masked(
    context: Context,
) -> None:
    view = add(context)

    assert view == connectors.ConnectorView(
        id=view.id,
        name="pd-production",
        key_masked="••••••••…a1b2",
        key_fingerprint=Secret(KEY).fingerprint,
        region="us",
        rules=DEFAULT_RULES,
        send_info=False,
        change_events=True,
        is_default=True,
        max_severity=None,
        storm=Storm(collapse=True, threshold=20, window_s=60),
        rest_key_masked=None,
        service_id=None,
        repage_resolved_by_hand=False,
        verified_at=None,
        verified_urgency=None,
        open_incidents=0,
        last_delivery=None,
        created_at=MAY_25,
        updated_at=MAY_25,
    )
    assert KEY not in repr(view)


def test_the_key_is_stored_only_encrypted(context: Context) -> None:
    add(context)

    with context.engine.connect() as connection:
        (row,) = rows(connection, connectors_table)
    assert KEY.encode() not in row["routing_key"]
    assert context.vault.decrypt(row["routing_key"]) == Secret(KEY)
    assert row["key_last4"] == "a1b2"
    assert row["rules"] == [
        "evidence_pack_failed",
        "airgapped_pool_offline",
        "pool_offline",
        "post_release_regression",
    ]


def test_toggles_accept_rule_names_and_event_types(context: Context) -> None:
    view = add(
        context,
        enable=["standard_amendment"],
        disable=["runner_pool.offline"],
        region="eu",
        send_info=True,
        is_default=False,
    )

    assert view.rules == {
        Rule.EVIDENCE_PACK_FAILED: True,
        Rule.AIRGAPPED_POOL_OFFLINE: False,
        Rule.POOL_OFFLINE: False,
        Rule.POST_RELEASE_REGRESSION: True,
        Rule.STANDARD_AMENDMENT: True,
    }
    assert (view.region, view.send_info, view.is_default) == ("eu", True, False)


def test_an_unknown_toggle_is_refused_listing_what_is_known(context: Context) -> None:
    with pytest.raises(InvalidConnector) as raised:
        add(context, enable=["pool_down"])

    assert str(raised.value) == (
        "enable: 'pool_down' is not a rule or event type; rules: evidence_pack_failed, "
        "airgapped_pool_offline, pool_offline, post_release_regression, standard_amendment; "
        "event types: evidence_pack.generation_failed, runner_pool.offline, "
        "standard.amendment_published, test_run.completed"
    )


def test_a_rule_both_enabled_and_disabled_is_refused(context: Context) -> None:
    with pytest.raises(InvalidConnector) as raised:
        add(context, enable=["pool_offline"], disable=["runner_pool.offline"])

    assert str(raised.value) == "pool_offline: both enabled and disabled; pick one"


def test_an_unknown_region_is_refused(context: Context) -> None:
    with pytest.raises(InvalidConnector) as raised:
        add(context, region="ap")

    assert str(raised.value) == "region: must be 'us' or 'eu', got 'ap'"


def test_a_severity_cap_is_kept_and_used_by_routing(context: Context) -> None:
    view = add(context, max_severity="warning")

    with context.engine.connect() as connection:
        (target,) = load_targets(connection)
    assert view.max_severity is Severity.WARNING
    assert target.max_severity is Severity.WARNING


def test_an_unknown_severity_cap_is_refused_and_adds_nothing(context: Context) -> None:
    with pytest.raises(InvalidConnector) as raised:
        add(context, max_severity="urgent")

    assert str(raised.value) == (
        "max_severity: 'urgent' is not a severity; use one of info, warning, error, critical"
    )
    with context.engine.connect() as connection:
        assert connectors.list_all(connection) == []


def test_a_second_connector_with_the_same_name_is_refused(context: Context) -> None:
    add(context)

    with pytest.raises(DuplicateConnector) as raised:
        add(context, key=NEW_KEY)

    assert str(raised.value) == "a connector named 'pd-production' already exists"


def test_an_invalid_key_adds_nothing(context: Context) -> None:
    with pytest.raises(InvalidKey):
        add(context, key=KEY[:20])

    with context.engine.connect() as connection:
        assert connectors.list_all(connection) == []


# reading


def test_connectors_are_listed_by_name_with_open_incidents_and_last_delivery(
    context: Context,
) -> None:
    add(context, "pd-staging", key=NEW_KEY)
    add(context, "pd-production")
    ingest(context, [evidence_event("e1", "evidence_pack.generation_failed")], MAY_25)

    with context.engine.connect() as connection:
        listed = connectors.list_all(connection)

    assert [(v.name, v.open_incidents, v.last_delivery) for v in listed] == [
        ("pd-production", 1, LastDelivery("queued", MAY_25)),
        ("pd-staging", 1, LastDelivery("queued", MAY_25)),
    ]


def test_the_last_delivery_is_the_newest_row_at_its_last_attempt(context: Context) -> None:
    add(context)
    ingest(context, [evidence_event("e1", "evidence_pack.generation_failed")], MAY_25)
    ingest(context, [evidence_event("e2", "evidence_pack.generated")], MAY_25)
    attempted = MAY_25 + timedelta(minutes=1)
    with context.engine.begin() as connection:
        newest = max(r["id"] for r in rows(connection, outbox))
        connection.execute(
            outbox.update()
            .where(outbox.c.id == newest)
            .values(status="sent", last_attempt_at=attempted)
        )

    with context.engine.connect() as connection:
        view = connectors.get(connection, name="pd-production")

    assert (view.open_incidents, view.last_delivery) == (0, LastDelivery("sent", attempted))


def test_a_slack_channel_named_like_a_connector_is_not_its_last_delivery(
    context: Context,
) -> None:
    add(context)
    ingest(context, [evidence_event("e1", "evidence_pack.generation_failed")], MAY_25)
    add_chat_row(context, "pd-production", now=MAY_25 + timedelta(minutes=5))

    with context.engine.connect() as connection:
        view = connectors.get(connection, name="pd-production")
        listed = connectors.list_all(connection)

    assert view.last_delivery == LastDelivery("queued", MAY_25)
    assert [(v.name, v.last_delivery) for v in listed] == [
        ("pd-production", LastDelivery("queued", MAY_25))
    ]


def test_an_unknown_connector_is_named_in_the_error(context: Context) -> None:
    with context.engine.connect() as connection, pytest.raises(UnknownConnector) as raised:
        connectors.get(connection, name="pd-nowhere")

    assert str(raised.value) == "no connector named 'pd-nowhere'"


# updating


def test_toggles_change_only_what_is_named(context: Context) -> None:
    add(context)
    later = MAY_25 + timedelta(hours=1)

    with context.engine.begin() as connection:
        view = connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            enable=["standard.amendment_published"],
            disable=["evidence_pack_failed"],
            by="test",
            now=later,
        )

    assert view.rules == DEFAULT_RULES | {
        Rule.EVIDENCE_PACK_FAILED: False,
        Rule.STANDARD_AMENDMENT: True,
    }
    assert (view.region, view.send_info, view.is_default) == ("us", False, True)
    assert (view.created_at, view.updated_at) == (MAY_25, later)


def test_region_send_info_and_default_can_be_changed(context: Context) -> None:
    add(context)

    with context.engine.begin() as connection:
        view = connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            changes={"region": "eu", "send_info": True, "is_default": False},
            by="test",
            now=MAY_25,
        )

    assert (view.region, view.send_info, view.is_default, view.rules) == (
        "eu",
        True,
        False,
        DEFAULT_RULES,
    )


def test_the_severity_cap_is_kept_unless_set_or_removed(context: Context) -> None:
    add(context)

    def update(**change: Any) -> connectors.ConnectorView:
        with context.engine.begin() as connection:
            return connectors.update(
                connection,
                vault=context.vault,
                name="pd-production",
                by="test",
                now=MAY_25,
                changes=change,
            )

    assert update(max_severity="warning").max_severity is Severity.WARNING
    assert update(send_info=True).max_severity is Severity.WARNING
    assert update(max_severity=None).max_severity is None


def test_an_unknown_severity_cap_changes_nothing(context: Context) -> None:
    add(context, max_severity="error")

    with context.engine.begin() as connection, pytest.raises(InvalidConnector):
        connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            changes={"max_severity": "high"},
            by="test",
            now=MAY_25,
        )
    with context.engine.connect() as connection:
        assert connectors.get(connection, name="pd-production").max_severity is Severity.ERROR


def test_rotating_the_key_keeps_open_incidents_on_the_key_that_triggered_them(
    context: Context,
) -> None:
    add(context)
    ingest(context, [evidence_event("e1", "evidence_pack.generation_failed")], MAY_25)

    with context.engine.begin() as connection:
        view = connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            key=NEW_KEY,
            by="test",
            now=MAY_25,
        )
    with context.engine.connect() as connection:
        (incident,) = rows(connection, incidents)
        (stored,) = rows(connection, connectors_table)

    assert (view.key_masked, view.key_fingerprint) == ("••••••••…L5k4", Secret(NEW_KEY).fingerprint)
    assert context.vault.decrypt(stored["routing_key"]) == Secret(NEW_KEY)
    assert incident["key_fingerprint"] == Secret(KEY).fingerprint
    assert context.vault.decrypt(incident["routing_key"]) == Secret(KEY)

    ingest(context, [evidence_event("e2", "evidence_pack.generated")], MAY_25)
    ingest(context, [evidence_event("e3", "evidence_pack.generation_failed", "v1.5.0")], MAY_25)

    with context.engine.connect() as connection:
        sent = sorted(rows(connection, outbox), key=lambda r: r["id"])
    assert [(r["action"], r["dedup_key"], r["key_fingerprint"]) for r in sent] == [
        ("trigger", "rbtk:evidence-fail:warehouse:v1.4.0", Secret(KEY).fingerprint),
        ("resolve", "rbtk:evidence-fail:warehouse:v1.4.0", Secret(KEY).fingerprint),
        ("trigger", "rbtk:evidence-fail:warehouse:v1.5.0", Secret(NEW_KEY).fingerprint),
    ]
    assert context.vault.decrypt(sent[1]["destination"]) == Secret(KEY)


def test_an_invalid_new_key_changes_nothing(context: Context) -> None:
    add(context)

    with context.engine.begin() as connection, pytest.raises(InvalidKey):
        connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            key="short",
            by="test",
            now=MAY_25,
        )
    with context.engine.connect() as connection:
        assert connectors.get(connection, name="pd-production").key_masked == "••••••••…a1b2"


def test_updating_an_unknown_connector_is_refused(context: Context) -> None:
    with context.engine.begin() as connection, pytest.raises(UnknownConnector):
        connectors.update(
            connection,
            vault=context.vault,
            name="pd-nowhere",
            changes={"send_info": True},
            by="test",
            now=MAY_25,
        )


# removing


def test_removing_a_connector_with_open_incidents_is_refused(context: Context) -> None:
    add(context)
    ingest(context, [evidence_event("e1", "evidence_pack.generation_failed")], MAY_25)

    with context.engine.begin() as connection, pytest.raises(ConnectorInUse) as raised:
        connectors.remove(connection, name="pd-production", by="test", now=datetime.now(UTC))

    assert str(raised.value) == (
        "connector 'pd-production' still has 1 open incident: wait until it resolves, or "
        "remove it with force (rbtk then forgets them and never sends their resolves)"
    )
    with context.engine.connect() as connection:
        assert connectors.get(connection, name="pd-production").open_incidents == 1


def test_forced_removal_forgets_open_incidents_and_keeps_the_delivery_log(
    context: Context,
) -> None:
    add(context)
    ingest(context, [evidence_event("e1", "evidence_pack.generation_failed")], MAY_25)

    with context.engine.begin() as connection:
        forgotten = connectors.remove(
            connection, name="pd-production", force=True, by="test", now=datetime.now(UTC)
        )
    with context.engine.connect() as connection:
        assert forgotten == 1
        assert connectors.list_all(connection) == []
        assert rows(connection, incidents) == []
        assert [(r["connector_id"], r["connector_name"]) for r in rows(connection, outbox)] == [
            (None, "pd-production")
        ]


def test_a_connector_without_open_incidents_is_removed_without_force(context: Context) -> None:
    add(context)
    ingest(context, [evidence_event("e1", "evidence_pack.generation_failed")], MAY_25)
    ingest(context, [evidence_event("e2", "evidence_pack.generated")], MAY_25)

    with context.engine.begin() as connection:
        assert (
            connectors.remove(connection, name="pd-production", by="test", now=datetime.now(UTC))
            == 0
        )
    with context.engine.connect() as connection:
        assert connectors.list_all(connection) == []
        assert [r["action"] for r in rows(connection, outbox)] == ["trigger", "resolve"]


def test_removing_an_unknown_connector_is_refused(context: Context) -> None:
    with context.engine.begin() as connection, pytest.raises(UnknownConnector):
        connectors.remove(connection, name="pd-nowhere", by="test", now=datetime.now(UTC))


def test_removing_a_connector_that_routing_rules_name_is_refused_unless_forced(
    context: Context,
) -> None:
    add(context, "pd-production")
    add(context, "pd-staging")
    with context.engine.begin() as connection:
        routing.replace_rules(
            connection,
            [
                RouteRule(1, "a*", None, ("pd-staging",)),
                RouteRule(2, "b*", None, ("pd-production", "pd-staging")),
            ],
            by="test",
            now=MAY_25,
        )

    with pytest.raises(connectors.ConnectorRouted) as refused, context.engine.begin() as connection:
        connectors.remove(connection, name="pd-staging", by="test", now=datetime.now(UTC))
    with context.engine.begin() as connection:
        connectors.remove(
            connection, name="pd-staging", force=True, by="test", now=datetime.now(UTC)
        )

    assert "routing rule(s) at position 1, 2" in str(refused.value)
    with context.engine.connect() as connection:
        left = [(r["position"], r["connectors"]) for r in rows(connection, routing_rules)]
    assert left == [(1, ["pd-production"])]  # renumbered: no gap left

"""Each refusal names the field it is about, where it is raised: the pages highlight that field
and configuration as code places the problem, without reading the message."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rbtk.admin import chat_channels, connector_settings, connectors, runbooks, suppressions
from rbtk.channels import email, slack, webhook
from rbtk.channels.base import InvalidDestination
from rbtk.context import Context
from rbtk.runtime.errors import AdminError

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
NOW = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("refused", "field"),
    [
        (lambda: connectors.validate_key(""), "integration_key"),
        (lambda: connectors.validate_key("y_NbAkKc66ryYTWUXYEu"), "integration_key"),
        (lambda: connectors.validate_key(KEY[:31] + "!"), "integration_key"),
        (lambda: connectors.validate_rest_key(KEY), "rest_key"),
        (lambda: connectors.validate_rest_key("short"), "rest_key"),
        (lambda: connector_settings.parse({"service_id": "not an id"}), "service_id"),
        (lambda: connectors.validate_name(""), "name"),
        (lambda: connectors.validate_name("x" * 65), "name"),
        (lambda: connectors.validate_name("PD Production"), "name"),
        (lambda: connector_settings.parse({"region": "ap"}), "region"),
        (lambda: connector_settings.parse({"max_severity": "urgent"}), "max_severity"),
        (lambda: connector_settings.parse({"storm": {"threshold": 0}}), "storm_threshold"),
        (lambda: connector_settings.parse({"storm": {"window_s": 5}}), "storm_window_s"),
        (lambda: connectors.toggled((), enable=["no_such_rule"]), "enable"),
        (lambda: connectors.toggled((), disable=["no_such_rule"]), "disable"),
        (lambda: chat_channels.validate_name(""), "name"),
        (lambda: chat_channels.validate_name("Ops Slack"), "name"),
        (lambda: runbooks.validate_rule("no_such_rule"), "rule"),
        (lambda: runbooks.validate_url(""), "url"),
        (lambda: runbooks.validate_url("https://wiki.example.com/a b"), "url"),
        (lambda: runbooks.validate_url("wiki.example.com/runbook"), "url"),
    ],
)
def test_a_validators_refusal_names_its_field(refused: Callable[[], Any], field: str) -> None:
    with pytest.raises(AdminError) as raised:
        refused()

    assert raised.value.field == field


def test_a_rule_both_enabled_and_disabled_names_no_one_field() -> None:
    with pytest.raises(connector_settings.InvalidConnector) as raised:
        connectors.toggled((), enable=["pool_offline"], disable=["pool_offline"])

    assert raised.value.field is None


@pytest.mark.parametrize(
    ("validate", "values", "field"),
    [
        (email.validate, {}, "recipients"),
        (email.validate, {"recipients": ["not an address"]}, "recipients"),
        (email.validate, {"recipients": ["a@example.com", "A@example.com"]}, "recipients"),
        (slack.validate, {}, "webhook_url"),
        (slack.validate, {"webhook_url": "hooks.slack.com/services/T/B/X"}, "webhook_url"),
        (webhook.validate, {}, "url"),
        (
            webhook.validate,
            {"url": "ftp://hooks.example.com/rbtk", "signing_secret": "s" * 16},
            "url",
        ),
        (webhook.validate, {"url": "https://hooks.example.com/rbtk"}, "signing_secret"),
        (
            webhook.validate,
            {"url": "https://hooks.example.com/rbtk", "signing_secret": "short"},
            "signing_secret",
        ),
    ],
)
def test_a_chat_destinations_refusal_names_its_field(
    validate: Callable[..., Any], values: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidDestination) as raised:
        validate(values, allow_private=True)

    assert raised.value.field == field


def test_a_channels_refused_destination_keeps_its_field_as_the_admin_error(
    context: Context,
) -> None:
    with pytest.raises(chat_channels.InvalidChannel) as raised:
        chat_channels.destination_values(
            context.vault,
            "webhook",
            {"url": "ftp://x.example.com", "signing_secret": "s" * 16},
            allow_private=True,
        )
    assert raised.value.field == "url"

    with pytest.raises(chat_channels.InvalidChannel) as raised:
        chat_channels.destination_values(
            context.vault, "email", {"webhook_url": "https://hooks.slack.com/x"}, allow_private=True
        )
    assert raised.value.field == "webhook_url"

    with pytest.raises(chat_channels.InvalidChannel) as raised:
        chat_channels.destination_values(context.vault, "teams", {}, allow_private=True)
    assert raised.value.field == "kind"


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"connector": None, "all_connectors": False}, "connector"),
        ({"connector": "pd-a", "all_connectors": True}, "connector"),
        ({"starts_at": datetime(2026, 5, 25, 4, 0)}, "starts_at"),
        ({"ends_at": datetime(2026, 5, 25, 4, 0)}, "ends_at"),
        ({"ends_at": NOW - timedelta(hours=1)}, "ends_at"),
        ({"starts_at": NOW + timedelta(hours=2)}, "ends_at"),
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 1001}, "reason"),
        ({"connector": None, "all_connectors": True}, "connector"),  # none to suppress yet
    ],
)
def test_a_suppression_windows_refusal_names_its_field(
    context: Context, window: dict[str, Any], field: str
) -> None:
    asked: dict[str, Any] = {
        "connector": "pd-a",
        "all_connectors": False,
        "starts_at": None,
        "ends_at": NOW + timedelta(hours=1),
        "reason": "Maintenance",
    } | window
    with context.engine.begin() as connection, pytest.raises(AdminError) as raised:
        suppressions.create(connection, **asked, by="test", now=NOW)

    assert raised.value.field == field


def test_a_taken_name_is_a_conflict_about_the_name(context: Context) -> None:
    with context.engine.begin() as connection:
        for _ in range(2):
            try:
                connectors.add(
                    connection, vault=context.vault, name="pd-a", key=KEY, by="test", now=NOW
                )
            except connectors.DuplicateConnector as exc:
                assert exc.field == "name"
                return
    pytest.fail("the second connector named pd-a was added")

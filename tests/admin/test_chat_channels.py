"""Slack and email channels and notification rules: validation, masking, the ordered list."""

from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

import pytest
from sqlalchemy import select

from rbtk.admin import chat_channels
from rbtk.admin.chat_channels import (
    ChannelInUse,
    ChannelView,
    DuplicateChannel,
    InvalidChannel,
    InvalidRules,
    UnknownChannel,
)
from rbtk.context import Context
from rbtk.routing.chat import ChatRule, load_channels, load_rules
from rbtk.runtime import addresses
from rbtk.runtime.secrets import Secret
from rbtk.store.tables import notify_channels

WEBHOOK = "https://hooks.slack.com/services/T0001/B0002/s3cr3tW3bh00kT0k3nXyZ9"
MAY_25 = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)
EXPECTED = (
    "expected a Slack incoming webhook URL such as https://hooks.slack.com/services/T000/B000/XXXX"
)


def add(context: Context, name: str = "ops-slack", **options: Any) -> ChannelView:
    if "recipients" not in options and "webhook_url" not in options:
        options["webhook_url"] = WEBHOOK
    options.setdefault("kind", "email" if "recipients" in options else "slack")
    options.setdefault("allow_private_webhooks", context.settings.allow_private_webhooks)
    values: dict[str, Any] = {
        k: options.pop(k) for k in ("webhook_url", "recipients") if k in options
    }
    with context.engine.begin() as connection:
        return chat_channels.add_channel(
            connection,
            vault=context.vault,
            name=name,
            values=values,
            by="test",
            now=MAY_25,
            **options,
        )


def channels(context: Context) -> list[ChannelView]:
    with context.engine.connect() as connection:
        return chat_channels.list_channels(connection)


def save(context: Context, *rules: ChatRule) -> list[ChatRule]:
    with context.engine.begin() as connection:
        return chat_channels.replace_rules(connection, rules, by="test", now=MAY_25)


def stored_rules(context: Context) -> list[ChatRule]:
    with context.engine.connect() as connection:
        return load_rules(connection)


# channels


def test_a_slack_channel_shows_its_webhook_only_masked(context: Context) -> None:
    view = add(context)

    assert view == ChannelView(
        name="ops-slack",
        kind="slack",
        config={},
        secret_masked="••••••••…XyZ9",
        sends_to="••••••••…XyZ9",
        rules=[],
        created_at=MAY_25,
    )
    assert WEBHOOK not in repr(view)


def test_the_webhook_is_stored_only_encrypted(context: Context) -> None:
    add(context)

    with context.engine.connect() as connection:
        row = connection.execute(select(notify_channels)).one()._mapping
    assert WEBHOOK.encode() not in row["secret"]
    assert context.vault.decrypt(row["secret"]) == Secret(WEBHOOK)
    assert row["secret_last4"] == "XyZ9"


def test_a_local_http_receiver_is_accepted_when_private_webhooks_are_allowed(
    context: Context,
) -> None:
    view = add(context, webhook_url="http://127.0.0.1:8123/hook", allow_private_webhooks=True)

    assert view.secret_masked == "••••••••…hook"


PUBLIC_ONLY = (
    "webhooks may only reach public addresses "
    "(set RBTK_ALLOW_PRIVATE_WEBHOOKS=1 to allow internal addresses)"
)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://hooks.slack.com/services/T/B/X",
            "webhook_url: starts with 'http:', not https://: webhooks are sent only over "
            "https (plain http only with RBTK_ALLOW_PRIVATE_WEBHOOKS=1); " + EXPECTED,
        ),
        (
            "https://169.254.169.254/latest/meta-data/iam",
            f"webhook_url: 169.254.169.254 is a cloud metadata address; {PUBLIC_ONLY}",
        ),
        ("https://127.0.0.1:5432/", f"webhook_url: 127.0.0.1 is a loopback address; {PUBLIC_ONLY}"),
        (
            "https://[::ffff:10.0.0.7]/services/T/B/X",
            f"webhook_url: ::ffff:10.0.0.7 is a private address; {PUBLIC_ONLY}",
        ),
        (
            "https://localhost:8443/services/T/B/X",
            f"webhook_url: localhost resolves to 127.0.0.1, a loopback address; {PUBLIC_ONLY}",
        ),
        (
            "https://nowhere.invalid/services/T/B/X",
            "webhook_url: the host nowhere.invalid does not resolve (Name or service not "
            "known): check the host name, or try again once DNS answers",
        ),
    ],
)
def test_a_webhook_is_refused_unless_it_is_https_to_a_public_address(
    context: Context, url: str, message: str
) -> None:
    with pytest.raises(InvalidChannel) as raised:
        add(context, webhook_url=url, allow_private_webhooks=False)

    assert str(raised.value) == message
    assert channels(context) == []


def test_a_webhook_whose_name_resolves_to_a_public_address_is_accepted(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[Any]:
        asked.append((host, port))
        return [ip_address("2a00:1450::1"), ip_address("93.184.215.14")]

    monkeypatch.setattr(addresses, "resolve", resolve)

    view = add(context, webhook_url=WEBHOOK, allow_private_webhooks=False)

    assert view.secret_masked == "••••••••…XyZ9"
    assert asked == [("hooks.slack.com", 443)]


def test_a_name_with_one_internal_address_among_public_ones_is_refused(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        addresses,
        "resolve",
        lambda host, port: [ip_address("93.184.215.14"), ip_address("10.0.0.5")],
    )

    with pytest.raises(InvalidChannel) as raised:
        add(context, webhook_url=WEBHOOK, allow_private_webhooks=False)

    assert str(raised.value) == (
        f"webhook_url: hooks.slack.com resolves to 10.0.0.5, a private address; {PUBLIC_ONLY}"
    )


def test_an_email_channel_keeps_its_recipients(context: Context) -> None:
    view = add(context, "ops-mail", recipients=["ops@example.com", "oncall@robots.example"])

    assert (view.kind, view.recipients, view.secret_masked) == (
        "email",
        ["ops@example.com", "oncall@robots.example"],
        None,
    )
    with context.engine.connect() as connection:
        [channel] = load_channels(connection)
    assert (channel.kind, channel.config, channel.secret) == (
        "email",
        {"recipients": ["ops@example.com", "oncall@robots.example"]},
        None,
    )


def test_channels_are_listed_by_name_with_the_rules_naming_them(context: Context) -> None:
    add(context, "b-slack")
    add(context, "a-mail", recipients=["ops@example.com"])
    save(
        context,
        ChatRule(1, "warehouse", None, ("b-slack",)),
        ChatRule(2, None, None, ("a-mail", "b-slack")),
    )

    assert [(c.name, c.rules) for c in channels(context)] == [("a-mail", [2]), ("b-slack", [1, 2])]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", f"webhook_url: is empty; {EXPECTED}"),
        (
            "hooks.slack.com/services/T/B/X",
            f"webhook_url: does not start with https://; {EXPECTED}",
        ),
        (
            "ftp://hooks.slack.com/services/T/B/X",
            f"webhook_url: starts with 'ftp:', not https://; {EXPECTED}",
        ),
        ("https:///services/T/B/X", f"webhook_url: has no host; {EXPECTED}"),
        (
            " https://hooks.slack.com/services/T/B/X",
            f"webhook_url: has spaces or line breaks in it; {EXPECTED}",
        ),
        ("https://[::1/x", f"webhook_url: is not a valid URL; {EXPECTED}"),
        ("https://h/" + "x" * 2048, f"webhook_url: is over 2048 characters; {EXPECTED}"),
    ],
)
def test_a_bad_webhook_url_is_refused_without_echoing_it(
    context: Context, url: str, message: str
) -> None:
    with pytest.raises(InvalidChannel) as raised:
        add(context, webhook_url=url)

    assert str(raised.value) == message
    assert channels(context) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "Ops Slack"}, "name: 'Ops Slack' is not a lower-case slug: use a-z, 0-9 and "
         "'-', starting with a letter or digit, e.g. 'ops-slack'"),
        ({"name": ""}, "name: must not be empty; use a slug such as 'ops-slack'"),
        ({"name": "x" * 65}, "name: must be at most 64 characters, got 65"),
        ({"kind": "teams"}, "kind: must be one of 'slack', 'email', 'webhook', got 'teams'"),
        ({"kind": "email"}, "webhook_url: only Slack channels have a webhook URL"),
        ({"kind": "slack", "webhook_url": None},
         "webhook_url: a Slack channel needs one, e.g. "
         "https://hooks.slack.com/services/T000/B000/XXXX"),
        ({"recipients": ["ops@example.com"], "kind": "slack"},
         "recipients: only Email channels have recipients"),
        ({"recipients": []}, "recipients: give at least one email address"),
        ({"recipients": None, "kind": "email", "webhook_url": None},
         "recipients: an email channel needs at least one address"),
        ({"recipients": ["ops.example.com"]},
         "recipients: 'ops.example.com' is not an email address such as ops@example.com "
         "(give each address separately)"),
        ({"recipients": ["a@example.com,b@example.com"]},
         "recipients: 'a@example.com,b@example.com' is not an email address such as "
         "ops@example.com (give each address separately)"),
        ({"recipients": ["Ops <ops@example.com>"]},
         "recipients: 'Ops <ops@example.com>' is not an email address such as ops@example.com "
         "(give each address separately)"),
        ({"recipients": ["ops@example.com", "OPS@example.com"]},
         "recipients: 'OPS@example.com' is listed twice"),
        ({"recipients": [f"u{i}@example.com" for i in range(51)]},
         "recipients: at most 50 addresses, got 51; use a mailing list"),
    ],
)  # fmt: skip
def test_a_bad_channel_is_refused_saying_what_is_wrong(
    context: Context, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidChannel) as raised:
        add(context, **options)

    assert str(raised.value) == message
    assert channels(context) == []


def test_a_second_channel_with_the_same_name_is_refused(context: Context) -> None:
    add(context)

    with pytest.raises(DuplicateChannel) as raised:
        add(context, recipients=["ops@example.com"])

    assert str(raised.value) == "a channel named 'ops-slack' already exists"
    assert [c.kind for c in channels(context)] == ["slack"]


def test_a_channel_no_rule_names_is_removed(context: Context) -> None:
    add(context)

    with context.engine.begin() as connection:
        chat_channels.remove_channel(connection, name="ops-slack", by="test", now=datetime.now(UTC))

    assert channels(context) == []


def test_a_channel_rules_name_is_not_removed(context: Context) -> None:
    add(context)
    save(context, ChatRule(1, None, None, ("ops-slack",)), ChatRule(2, "a", None, ("ops-slack",)))

    with context.engine.begin() as connection, pytest.raises(ChannelInUse) as raised:
        chat_channels.remove_channel(connection, name="ops-slack", by="test", now=datetime.now(UTC))

    assert str(raised.value) == (
        "channel 'ops-slack' is named by the notification rules at position 1, 2: remove it "
        "from those rules first"
    )
    assert [c.name for c in channels(context)] == ["ops-slack"]


def test_removing_an_unknown_channel_is_refused(context: Context) -> None:
    with context.engine.begin() as connection, pytest.raises(UnknownChannel) as raised:
        chat_channels.remove_channel(connection, name="nope", by="test", now=datetime.now(UTC))

    assert str(raised.value) == "no notification channel named 'nope'"


# rules


def test_rules_are_saved_in_order_and_a_catch_all_is_allowed(context: Context) -> None:
    add(context)
    add(context, "ops-mail", recipients=["ops@example.com"])
    rules = [
        ChatRule(1, "warehouse", "test_run.*", ("ops-mail",)),
        ChatRule(2, None, None, ("ops-slack", "ops-mail")),
    ]

    assert save(context, *rules) == rules
    assert stored_rules(context) == rules


@pytest.mark.parametrize(
    ("rules", "errors"),
    [
        pytest.param(
            [ChatRule(1, None, None, ("nope",))],
            ["position 1: no channel named 'nope'"],
            id="unknown channel",
        ),
        pytest.param(
            [ChatRule(1, None, None, ())],
            ["position 1: names no channel; give at least one"],
            id="no channel",
        ),
        pytest.param(
            [ChatRule(2, "a", None, ("ops-slack",)), ChatRule(2, "b", None, ("ops-slack",))],
            ["position 2: used by 2 rules; positions must be unique"],
            id="duplicate positions",
        ),
        pytest.param(
            [ChatRule(1, "", None, ("ops-slack", "ops-slack"))],
            [
                "position 1: project is empty; leave it out to match every project",
                "position 1: names channel 'ops-slack' twice",
            ],
            id="empty project, channel twice",
        ),
    ],
)
def test_a_bad_rule_list_is_refused_and_changes_nothing(
    context: Context, rules: list[ChatRule], errors: list[str]
) -> None:
    add(context)
    before = save(context, ChatRule(1, "kept", None, ("ops-slack",)))

    with pytest.raises(InvalidRules) as raised:
        save(context, *rules)

    assert raised.value.errors == errors
    assert stored_rules(context) == before

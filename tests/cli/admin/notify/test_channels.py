"""`rbtk admin notify channels add|list|remove`: webhooks only ever masked. The "rbtk health"
mark (`add --health`, `update`): test_channel_health.py."""

from typing import Any

import httpx
import pytest

from tests.cli.conftest import Rbtk, shown

CHANNELS = "/api/v1/notify/channels"
WEBHOOK = "https://hooks.slack.com/services/T0001/B0002/s3cr3tW3bh00kT0k3nXyZ9"
MASKED = "••••••••…XyZ9"


def channels(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get(CHANNELS).json()["channels"])


def test_add_a_slack_channel_prints_it_with_the_webhook_masked(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    result = rbtk("admin", "notify", "channels", "add", "ops-slack", "--slack-webhook", WEBHOOK)

    [channel] = channels(api)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "added channel ops-slack\n"
        "name:     ops-slack\n"
        "kind:     slack\n"
        f"sends to: {MASKED}\n"
        "rules:    none\n"
        f"created:  {shown(str(channel['created_at']))}\n"
    )
    assert "s3cr3t" not in result.output


def test_add_an_email_channel_with_several_addresses(rbtk: Rbtk, api: httpx.Client) -> None:
    result = rbtk(
        "admin", "notify", "channels", "add", "ops-mail",
        "--email", "ops@example.com", "--email", "oncall@example.com",
    )  # fmt: skip

    assert (result.exit_code, result.stderr) == (0, "")
    assert "sends to: ops@example.com, oncall@example.com\n" in result.stdout
    assert [c["config"]["recipients"] for c in channels(api)] == [
        ["ops@example.com", "oncall@example.com"]
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["ops-slack", "--slack-webhook", "hooks.slack.com/services/T/B/s3cr3t"],
            "webhook_url: does not start with https://; expected a Slack incoming webhook URL "
            "such as https://hooks.slack.com/services/T000/B000/XXXX",
            id="no scheme",
        ),
        pytest.param(
            ["ops-slack", "--slack-webhook", "ftp://hooks.slack.com/s3cr3t"],
            "webhook_url: starts with 'ftp:', not https://; expected a Slack incoming webhook "
            "URL such as https://hooks.slack.com/services/T000/B000/XXXX",
            id="ftp",
        ),
        pytest.param(
            ["ops-mail", "--email", "ops.example.com"],
            "recipients: 'ops.example.com' is not an email address such as ops@example.com "
            "(give each address separately)",
            id="bad address",
        ),
        pytest.param(
            ["Ops", "--email", "ops@example.com"],
            "name: 'Ops' is not a lower-case slug: use a-z, 0-9 and '-', starting with a letter "
            "or digit, e.g. 'ops-slack'",
            id="bad name",
        ),
        pytest.param(
            ["taken", "--email", "ops@example.com"],
            "a channel named 'taken' already exists",
            id="name taken",
        ),
        pytest.param(
            ["ops"],
            "give where it sends: --slack-webhook URL, or --email ADDRESS (repeatable)",
            id="neither",
        ),
        pytest.param(
            ["ops", "--slack-webhook", WEBHOOK, "--email", "ops@example.com"],
            "give --slack-webhook URL or --email ADDRESS, not both",
            id="both",
        ),
    ],
)
def test_add_refuses_bad_input_and_adds_nothing(
    rbtk: Rbtk, api: httpx.Client, args: list[str], message: str
) -> None:
    api.post(CHANNELS, json={"name": "taken", "kind": "email", "recipients": ["a@example.com"]})

    result = rbtk("admin", "notify", "channels", "add", *args)

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")
    assert "s3cr3t" not in result.output
    assert [c["name"] for c in channels(api)] == ["taken"]


def test_list_shows_each_channel_masked_with_the_rules_naming_it(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    rbtk("admin", "notify", "channels", "add", "ops-slack", "--slack-webhook", WEBHOOK)
    rbtk("admin", "notify", "channels", "add", "ops-mail", "--email", "ops@example.com")
    api.put(
        "/api/v1/notify/rules",
        json={"rules": [{"position": 1, "channels": ["ops-slack", "ops-mail"]}]},
    )

    result = rbtk("admin", "notify", "channels", "list")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "NAME       KIND   SENDS TO         RULES  HEALTH\n"
        "ops-mail   email  ops@example.com  1\n"
        f"ops-slack  slack  {MASKED}    1\n"
    )


def test_list_without_channels_says_how_to_add_one(rbtk: Rbtk) -> None:
    result = rbtk("admin", "notify", "channels", "list")

    assert (result.exit_code, result.stdout) == (
        0,
        "no channels yet: add one with 'rbtk admin notify channels add NAME --slack-webhook "
        "URL' or '... --email ADDRESS'\n",
    )


def test_remove_deletes_a_channel(rbtk: Rbtk, api: httpx.Client) -> None:
    rbtk("admin", "notify", "channels", "add", "ops-mail", "--email", "ops@example.com")

    result = rbtk("admin", "notify", "channels", "remove", "ops-mail")

    assert (result.exit_code, result.stdout) == (0, "removed channel ops-mail\n")
    assert channels(api) == []


def test_remove_is_refused_while_a_rule_names_the_channel(rbtk: Rbtk, api: httpx.Client) -> None:
    rbtk("admin", "notify", "channels", "add", "ops-mail", "--email", "ops@example.com")
    api.put("/api/v1/notify/rules", json={"rules": [{"position": 1, "channels": ["ops-mail"]}]})

    result = rbtk("admin", "notify", "channels", "remove", "ops-mail")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: channel 'ops-mail' is named by the notification rule at position 1: remove it "
        "from that rule first\n"
    )
    assert [c["name"] for c in channels(api)] == ["ops-mail"]


def test_remove_of_an_unknown_channel_is_one_line_and_exit_1(rbtk: Rbtk) -> None:
    result = rbtk("admin", "notify", "channels", "remove", "nope")

    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "error: no notification channel named 'nope'\n",
    )

"""/api/v1/notify: Slack and email channels (webhooks masked) and the rules choosing them."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from rbtk.context import Context
from tests.conftest import production_test_send_wait

CHANNELS = "/api/v1/notify/channels"
RULES = "/api/v1/notify/rules"
WEBHOOK = "https://hooks.slack.com/services/T0001/B0002/s3cr3tW3bh00kT0k3nXyZ9"
MASKED = "••••••••…XyZ9"


def slack(admin: TestClient, name: str = "ops-slack") -> Any:
    answer = admin.post(CHANNELS, json={"name": name, "kind": "slack", "webhook_url": WEBHOOK})
    assert answer.status_code == 201, answer.text
    return answer.json()


def email(admin: TestClient, name: str = "ops-mail") -> Any:
    answer = admin.post(
        CHANNELS, json={"name": name, "kind": "email", "recipients": ["ops@example.com"]}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_slack_channel_answers_201_with_its_webhook_masked(admin: TestClient) -> None:
    answer = admin.post(
        CHANNELS, json={"name": "ops-slack", "kind": "slack", "webhook_url": WEBHOOK}
    )

    body = answer.json()
    assert answer.status_code == 201
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "name": "ops-slack",
        "kind": "slack",
        "sends_to": MASKED,
        "config": {},
        "secret": MASKED,
        "rules": [],
        "health": False,
    }
    assert WEBHOOK not in answer.text


def test_a_channel_marked_rbtk_health_at_creation_says_so(admin: TestClient) -> None:
    answer = admin.post(
        CHANNELS,
        json={
            "name": "rbtk-ops",
            "kind": "email",
            "recipients": ["oncall@example.com"],
            "health": True,
        },
    )

    assert (answer.status_code, answer.json()["health"]) == (201, True)
    listed = admin.get(CHANNELS).json()["channels"]
    assert [(c["name"], c["health"]) for c in listed] == [("rbtk-ops", True)]


def test_patch_marks_and_unmarks_a_channel_rbtk_health(admin: TestClient) -> None:
    slack(admin)
    email(admin)

    marked = admin.patch(f"{CHANNELS}/ops-mail", json={"health": True})
    listed = admin.get(CHANNELS).json()["channels"]
    unmarked = admin.patch(f"{CHANNELS}/ops-mail", json={"health": False})

    assert (marked.status_code, marked.json()["name"], marked.json()["health"]) == (
        200,
        "ops-mail",
        True,
    )
    assert [(c["name"], c["health"]) for c in listed] == [("ops-mail", True), ("ops-slack", False)]
    assert (unmarked.status_code, unmarked.json()["health"]) == (200, False)


@pytest.mark.parametrize("body", [{}, {"health": "yes"}, {"health": True, "kind": "slack"}])
def test_patch_takes_only_a_health_flag(admin: TestClient, body: dict[str, Any]) -> None:
    email(admin)

    answer = admin.patch(f"{CHANNELS}/ops-mail", json=body)

    assert answer.status_code == 422
    assert admin.get(CHANNELS).json()["channels"][0]["health"] is False


def test_an_email_channel_answers_its_recipients(admin: TestClient) -> None:
    body = email(admin)

    assert (body["kind"], body["secret"], body["config"], body["sends_to"]) == (
        "email",
        None,
        {"recipients": ["ops@example.com"]},
        "ops@example.com",
    )


def test_channels_are_listed_with_the_rules_naming_them_and_no_clear_url(
    admin: TestClient,
) -> None:
    slack(admin)
    email(admin)
    admin.put(RULES, json={"rules": [{"position": 1, "channels": ["ops-slack"]}]})

    answer = admin.get(CHANNELS)

    assert [(c["name"], c["secret"], c["rules"]) for c in answer.json()["channels"]] == [
        ("ops-mail", None, []),
        ("ops-slack", MASKED, [1]),
    ]
    assert WEBHOOK not in answer.text


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        pytest.param(
            {"name": "ops-slack", "kind": "slack", "webhook_url": "hooks.slack.com/s3cr3t"},
            422,
            "webhook_url: does not start with https://; expected a Slack incoming webhook URL "
            "such as https://hooks.slack.com/services/T000/B000/XXXX",
            id="no scheme",
        ),
        pytest.param(
            {"name": "Ops", "kind": "slack", "webhook_url": WEBHOOK},
            422,
            "name: 'Ops' is not a lower-case slug: use a-z, 0-9 and '-', starting with a "
            "letter or digit, e.g. 'ops-slack'",
            id="bad name",
        ),
        pytest.param(
            {"name": "ops", "kind": "teams", "webhook_url": WEBHOOK},
            422,
            "kind: Input should be 'slack', 'email' or 'webhook'",
            id="unknown kind",
        ),
        pytest.param(
            {"name": "ops", "kind": "email", "recipients": []},
            422,
            "recipients: give at least one email address",
            id="no recipients",
        ),
        pytest.param(
            {"name": "ops", "kind": "email", "recipients": ["ops"]},
            422,
            "recipients: 'ops' is not an email address such as ops@example.com (give each "
            "address separately)",
            id="bad address",
        ),
        pytest.param(
            {"name": "ops", "kind": "email", "recipients": ["a@b.c"], "webhook_url": WEBHOOK},
            422,
            "webhook_url: only Slack channels have a webhook URL",
            id="email with a webhook",
        ),
        pytest.param(
            {"name": "ops", "kind": "slack", "webhook_url": 7},
            422,
            "webhook_url: Input should be a valid string",
            id="wrong type",
        ),
        pytest.param(
            {"name": "taken", "kind": "slack", "webhook_url": WEBHOOK},
            409,
            "a channel named 'taken' already exists",
            id="name taken",
        ),
    ],
)
def test_a_bad_channel_is_refused_and_nothing_changes(
    admin: TestClient, body: dict[str, Any], status: int, detail: str
) -> None:
    email(admin, "taken")
    before = admin.get(CHANNELS).json()

    answer = admin.post(CHANNELS, json=body)

    assert (answer.status_code, answer.json()["detail"]) == (status, detail)
    assert "s3cr3t" not in answer.text
    assert admin.get(CHANNELS).json() == before


def test_without_private_webhooks_allowed_an_internal_webhook_is_refused_with_what_it_is(
    admin: TestClient, context: Context
) -> None:
    context.settings = context.settings.model_copy(update={"allow_private_webhooks": False})

    answers = [
        admin.post(CHANNELS, json={"name": "meta", "kind": "slack", "webhook_url": url})
        for url in (
            "https://169.254.169.254/latest/meta-data/s3cr3t",
            "http://localhost:5432/s3cr3t",
        )
    ]

    assert [(a.status_code, a.json()["detail"]) for a in answers] == [
        (
            422,
            "webhook_url: 169.254.169.254 is a cloud metadata address; webhooks may only reach "
            "public addresses (set RBTK_ALLOW_PRIVATE_WEBHOOKS=1 to allow internal addresses)",
        ),
        (
            422,
            "webhook_url: starts with 'http:', not https://: webhooks are sent only over https "
            "(plain http only with RBTK_ALLOW_PRIVATE_WEBHOOKS=1); expected a Slack incoming "
            "webhook URL such as https://hooks.slack.com/services/T000/B000/XXXX",
        ),
    ]
    assert all("s3cr3t" not in a.text for a in answers)
    assert admin.get(CHANNELS).json() == {"channels": []}


def test_delete_answers_204_and_the_channel_is_gone(admin: TestClient) -> None:
    slack(admin)

    answer = admin.delete(f"{CHANNELS}/ops-slack")

    assert (answer.status_code, answer.content) == (204, b"")
    assert admin.get(CHANNELS).json() == {"channels": []}


def test_deleting_a_channel_rules_name_is_409_and_keeps_it(admin: TestClient) -> None:
    slack(admin)
    admin.put(RULES, json={"rules": [{"position": 1, "channels": ["ops-slack"]}]})

    answer = admin.delete(f"{CHANNELS}/ops-slack")

    assert (answer.status_code, answer.json()) == (
        409,
        {
            "detail": "channel 'ops-slack' is named by the notification rule at position 1: "
            "remove it from that rule first"
        },
    )
    assert [c["name"] for c in admin.get(CHANNELS).json()["channels"]] == ["ops-slack"]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("DELETE", "", None), ("POST", "/test", None), ("PATCH", "", {"health": True})],
)
def test_an_unknown_channel_is_404(
    admin: TestClient, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    answer = admin.request(method, f"{CHANNELS}/nope{suffix}", json=body)

    assert (answer.status_code, answer.json()) == (
        404,
        {"detail": "no notification channel named 'nope'"},
    )


def test_the_test_route_answers_202_with_the_queued_row_when_nothing_sends_it_yet(
    admin: TestClient, context: Context
) -> None:
    production_test_send_wait(context)
    slack(admin)  # no delivery workers run here

    answer = admin.post(f"{CHANNELS}/ops-slack/test")

    queued = answer.json()
    assert answer.status_code == 202
    assert {k: v for k, v in queued.items() if k != "delivery_id"} == {
        "channel": "ops-slack",
        "status": "queued",
        "http_status": None,
        "message": None,
        "waiting": None,
        "detail": "the test message is queued: ops-slack has not answered yet; it is sent "
        "when delivery gets to it",
    }
    followed = admin.get(f"/api/v1/notify/deliveries/{queued['delivery_id']}").json()
    assert (followed["channel_name"], followed["status"]) == ("ops-slack", "queued")
    assert admin.get("/api/v1/notify/deliveries/999999").status_code == 404


# rules


RULE_LIST = [
    {"position": 1, "project": "warehouse", "event_type": "test_run.*", "channels": ["ops-mail"]},
    {"position": 2, "project": None, "event_type": None, "channels": ["ops-slack", "ops-mail"]},
]


def test_rules_are_saved_and_answered_in_order(admin: TestClient) -> None:
    slack(admin)
    email(admin)

    answer = admin.put(RULES, json={"rules": RULE_LIST})

    assert (answer.status_code, answer.json()) == (200, {"rules": RULE_LIST})
    assert admin.get(RULES).json() == {"rules": RULE_LIST}


@pytest.mark.parametrize(
    ("rules", "errors"),
    [
        pytest.param(
            [{"position": 1, "channels": ["nope"]}],
            ["position 1: no channel named 'nope'"],
            id="unknown channel",
        ),
        pytest.param(
            [{"position": 1, "channels": ["ops-slack"]}, {"position": 1, "channels": ["ops-mail"]}],
            ["position 1: used by 2 rules; positions must be unique"],
            id="duplicate positions",
        ),
        pytest.param(
            [{"position": 1, "channels": []}],
            ["position 1: names no channel; give at least one"],
            id="no channels",
        ),
        pytest.param(
            [{"position": 1}],
            ["rules.0.channels: Field required"],
            id="channels left out",
        ),
    ],
)
def test_a_bad_rule_list_is_refused_and_changes_nothing(
    admin: TestClient, rules: list[dict[str, Any]], errors: list[str]
) -> None:
    slack(admin)
    email(admin)
    admin.put(RULES, json={"rules": RULE_LIST})

    answer = admin.put(RULES, json={"rules": rules})

    assert (answer.status_code, answer.json()) == (
        422,
        {"detail": "; ".join(errors), "errors": errors},
    )
    assert admin.get(RULES).json() == {"rules": RULE_LIST}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", CHANNELS),
        ("POST", CHANNELS),
        ("DELETE", f"{CHANNELS}/ops-slack"),
        ("POST", f"{CHANNELS}/ops-slack/test"),
        ("GET", RULES),
        ("PUT", RULES),
    ],
)
def test_an_events_token_may_not_see_or_change_channels(
    client: TestClient, events_token: str, method: str, path: str
) -> None:
    answer = client.request(
        method, path, json={}, headers={"Authorization": f"Bearer {events_token}"}
    )

    assert (answer.status_code, answer.json()) == (
        403,
        {"detail": "this token may only post events"},
    )

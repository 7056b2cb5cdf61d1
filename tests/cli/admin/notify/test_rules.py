"""`rbtk admin notify rules list|add|remove|move`: the ordered rules choosing channels."""

import httpx
import pytest

from tests.cli.conftest import Rbtk

RULES = "/api/v1/notify/rules"


@pytest.fixture
def two(api: httpx.Client) -> httpx.Client:
    for body in (
        {"name": "ops-slack", "kind": "slack", "webhook_url": "http://127.0.0.1:9/hook"},
        {"name": "ops-mail", "kind": "email", "recipients": ["ops@example.com"]},
    ):
        assert api.post("/api/v1/notify/channels", json=body).status_code == 201
    return api


def rules(api: httpx.Client) -> list[dict[str, object]]:
    return list(api.get(RULES).json()["rules"])


def rule(
    position: int, project: str | None, event_type: str | None, *names: str
) -> dict[str, object]:
    return {
        "position": position,
        "project": project,
        "event_type": event_type,
        "channels": list(names),
    }


def test_list_without_rules_says_nothing_goes_out(rbtk: Rbtk) -> None:
    result = rbtk("admin", "notify", "rules", "list")

    assert (result.exit_code, result.stdout) == (
        0,
        "no notification rules: nothing goes to Slack or email\n",
    )


def test_add_appends_a_catch_all_and_inserts_before_it(rbtk: Rbtk, two: httpx.Client) -> None:
    catch_all = rbtk("admin", "notify", "rules", "add", "--channel", "ops-slack")
    first = rbtk(
        "admin", "notify", "rules", "add", "--project", "warehouse", "--event-type", "test_run.*",
        "--channel", "ops-mail", "--channel", "ops-slack", "--position", "1",
    )  # fmt: skip
    listed = rbtk("admin", "notify", "rules", "list")

    assert (catch_all.exit_code, first.exit_code) == (0, 0)
    assert catch_all.stdout.startswith("added notification rule at position 1\n")
    assert first.stdout == "added notification rule at position 1\n" + listed.stdout
    assert listed.stdout == (
        "POSITION  PROJECT    EVENT TYPE  CHANNELS\n"
        "1         warehouse  test_run.*  ops-mail,ops-slack\n"
        "2         (any)      (any)       ops-slack\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--channel", "nope"], "position 2: no channel named 'nope'", id="unknown"),
        pytest.param(
            ["--channel", "ops-mail", "--channel", "ops-mail"],
            "position 2: names channel 'ops-mail' twice",
            id="twice",
        ),
        pytest.param(
            ["--channel", "ops-mail", "--position", "5"],
            "position 5: positions for a new rule are 1 to 2",
            id="position past the end",
        ),
    ],
)
def test_add_refuses_bad_input_and_changes_nothing(
    rbtk: Rbtk, two: httpx.Client, args: list[str], message: str
) -> None:
    two.put(RULES, json={"rules": [rule(1, "a", None, "ops-slack")]})

    result = rbtk("admin", "notify", "rules", "add", *args)

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")
    assert rules(two) == [rule(1, "a", None, "ops-slack")]


def test_remove_and_move(rbtk: Rbtk, two: httpx.Client) -> None:
    two.put(
        RULES,
        json={
            "rules": [
                rule(1, "a", None, "ops-slack"),
                rule(2, "b", None, "ops-mail"),
                rule(3, "c", None, "ops-slack"),
            ]
        },
    )

    moved = rbtk("admin", "notify", "rules", "move", "3", "--to", "1")
    removed = rbtk("admin", "notify", "rules", "remove", "2")

    assert moved.stdout.startswith("moved notification rule 3 to position 1\n")
    assert removed.stdout == (
        "removed notification rule 2\n"
        "POSITION  PROJECT  EVENT TYPE  CHANNELS\n"
        "1         c        (any)       ops-slack\n"
        "2         b        (any)       ops-mail\n"
    )
    assert [r["project"] for r in rules(two)] == ["c", "b"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["remove", "3"], "no rule at position 3: the only position for a rule is 1"),
        (
            ["move", "1", "--to", "2"],
            "cannot move to position 2: the only position for a rule is 1",
        ),
    ],
)
def test_positions_not_there_are_refused_and_change_nothing(
    rbtk: Rbtk, two: httpx.Client, args: list[str], message: str
) -> None:
    two.put(RULES, json={"rules": [rule(1, "a", None, "ops-slack")]})

    result = rbtk("admin", "notify", "rules", *args)

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")
    assert rules(two) == [rule(1, "a", None, "ops-slack")]

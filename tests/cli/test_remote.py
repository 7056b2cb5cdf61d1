"""`rbtk admin` and `rbtk events` take --url, --token and --output once, for every command."""

import json
import re
from collections.abc import Iterator

import httpx
import pytest
import typer

from rbtk.cli.main import app
from tests.cli.conftest import KEY, UNREACHABLE, Rbtk, add_connector

NO_CONNECTORS = "no connectors yet: add one with 'rbtk admin pd connectors add NAME --key KEY'\n"


def leaf_commands() -> Iterator[tuple[str, ...]]:
    """Every command under `rbtk admin` and `rbtk events`, as the words that run it."""

    def walk(command: object, words: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        if isinstance(command, typer.core.TyperGroup):
            context = typer.Context(command)
            for name in command.list_commands(context):  # loads each lazily, as a run does
                yield from walk(command.get_command(context, name), (*words, name))
        else:
            yield words

    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    for group in ("admin", "events"):
        yield from walk(root.get_command(typer.Context(root), group), (group,))


def listed(help_text: str) -> set[str]:
    """The options a --help page lists: the first word of a line of its options box."""
    return set(re.findall(r"^\W*(--[a-z-]+)", help_text, re.MULTILINE))


@pytest.fixture
def bare() -> Rbtk:
    """rbtk in a shell with neither RBTK_URL pointing anywhere useful nor RBTK_TOKEN."""
    return Rbtk(UNREACHABLE, None)


def test_there_are_45_api_commands() -> None:
    assert len(list(leaf_commands())) == 45


@pytest.mark.parametrize("command", [" ".join(c) for c in leaf_commands()])
def test_the_help_of_a_command_leaves_url_token_and_output_to_its_group(
    bare: Rbtk, command: str
) -> None:
    result = bare(*command.split(), "--help")

    assert (result.exit_code, result.stderr) == (0, "")
    assert "--help" in listed(result.stdout)
    assert not {"--url", "--token", "--output"} & listed(result.stdout)


@pytest.mark.parametrize("group", ["admin", "events"])
def test_the_help_of_a_group_lists_url_token_and_output(bare: Rbtk, group: str) -> None:
    result = bare(group, "--help", env={"COLUMNS": "200"})

    assert result.exit_code == 0
    assert {"--url", "--token", "--output"} <= listed(result.stdout)
    for variable in ("RBTK_URL", "RBTK_TOKEN", "RBTK_OUTPUT"):
        assert f"[env var: {variable}" in result.stdout


def test_url_and_token_given_on_the_group_reach_the_server(rbtk: Rbtk, bare: Rbtk) -> None:
    assert rbtk.token is not None

    result = bare("admin", "--url", rbtk.url, "--token", rbtk.token, "pd", "connectors", "list")

    assert (result.exit_code, result.stdout, result.stderr) == (0, NO_CONNECTORS, "")


def test_events_take_url_and_token_on_their_group(
    rbtk: Rbtk, bare: Rbtk, events_token: str
) -> None:
    event = {
        "id": "evt-1",
        "type": "runner_pool.online",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T03:00:00Z",
        "data": {"pool_name": "build-farm"},
    }

    result = bare(
        "events", "--url", rbtk.url, "--token", events_token, "send", "-", input=json.dumps(event)
    )

    assert (result.exit_code, result.stdout, result.stderr) == (0, "accepted evt-1\n", "")


def test_the_token_option_wins_over_rbtk_token(rbtk: Rbtk) -> None:
    assert rbtk.token is not None
    refused = rbtk.with_token("rbtk_not-a-real-token")

    result = refused("admin", "--token", rbtk.token, "pd", "connectors", "list")

    assert (result.exit_code, result.stdout, result.stderr) == (0, NO_CONNECTORS, "")


def test_a_refused_token_option_is_never_echoed(rbtk: Rbtk) -> None:
    token = "rbtk_not-a-real-token"

    result = rbtk.with_token(None)("admin", "--token", token, "pd", "connectors", "list")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: rbtk refused the token (invalid or revoked token): set RBTK_TOKEN; "
        "create one with 'rbtk tokens create --scope admin'\n"
    )
    assert token not in result.output


def test_a_url_option_that_is_not_http_is_named_with_rbtk_url(rbtk: Rbtk) -> None:
    result = rbtk("admin", "--url", "127.0.0.1:8000", "pd", "connectors", "list")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: --url/RBTK_URL must be an http(s) URL such as http://127.0.0.1:8000, "
        "not '127.0.0.1:8000'\n"
    )


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (("pd", "connectors", "list"), "/api/v1/pagerduty/connectors"),
        (("pd", "route", "list"), "/api/v1/pagerduty/routing"),
        (("pd", "suppressions", "list"), "/api/v1/pagerduty/suppressions"),
        (("pd", "log"), "/api/v1/pagerduty/deliveries"),
        (("notify", "channels", "list"), "/api/v1/notify/channels"),
        (("notify", "rules", "list"), "/api/v1/notify/rules"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_output_json_on_a_list_prints_what_the_api_answers(
    rbtk: Rbtk, api: httpx.Client, command: tuple[str, ...], path: str
) -> None:
    add_connector(api, "pd-production", is_default=True)
    channel = {"name": "ops", "kind": "email", "recipients": ["ops@example.com"]}
    assert api.post("/api/v1/notify/channels", json=channel).status_code == 201
    rule = {"position": 1, "project": "ware*", "event_type": None, "channels": ["ops"]}
    rules = {"rules": [rule]}
    assert api.put("/api/v1/notify/rules", json=rules).status_code == 200

    result = rbtk("admin", "--output", "json", *command)

    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == api.get(path).json()


def test_rbtk_output_chooses_json_from_the_environment(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-production")

    result = rbtk("admin", "pd", "connectors", "list", env={"RBTK_OUTPUT": "json"})

    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == api.get("/api/v1/pagerduty/connectors").json()


def test_output_json_on_a_change_prints_the_saved_answer_alone(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    result = rbtk(
        "admin", "--output", "json", "pd", "connectors", "add", "pd-production", "--key", KEY
    )

    assert (result.exit_code, result.stderr) == (0, "")
    saved = api.get("/api/v1/pagerduty/connectors/pd-production").json()
    assert json.loads(result.stdout) == saved


def test_output_json_on_a_rule_edit_prints_the_saved_list(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-production")
    route = ("route", "add", "--project", "ware*", "--connector", "pd-production")

    result = rbtk("admin", "--output", "json", "pd", *route)

    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == api.get("/api/v1/pagerduty/routing").json()


def test_output_json_on_a_removal_prints_nothing_as_the_api_answers_nothing(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    add_connector(api, "pd-production")

    result = rbtk("admin", "--output", "json", "pd", "connectors", "remove", "pd-production")

    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert api.get("/api/v1/pagerduty/connectors").json() == {"connectors": []}


def test_output_json_of_events_send_is_the_apis_batch_answer(rbtk: Rbtk, events_token: str) -> None:
    good = {
        "id": "evt-1",
        "type": "runner_pool.online",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T03:00:00Z",
        "data": {"pool_name": "build-farm"},
    }
    events = [good, {**good, "id": "evt-2", "data": {}}, good]

    result = rbtk.with_token(events_token)(
        "events", "--output", "json", "send", "-", input=json.dumps(events)
    )

    assert (result.exit_code, result.stderr) == (1, "")
    assert json.loads(result.stdout) == {
        "accepted": 1,
        "duplicate": 1,
        "rejected": 1,
        "results": [
            {"index": 0, "id": "evt-1", "status": "accepted"},
            {
                "index": 1,
                "id": "evt-2",
                "status": "rejected",
                "errors": ["data.pool_name: is required"],
            },
            {"index": 2, "id": "evt-1", "status": "duplicate"},
        ],
    }


def test_pd_log_json_is_the_same_as_output_json(rbtk: Rbtk) -> None:
    alias = rbtk("admin", "pd", "log", "--json")
    group = rbtk("admin", "--output", "json", "pd", "log")

    assert (alias.exit_code, alias.stderr) == (0, "")
    assert alias.stdout == group.stdout
    assert json.loads(alias.stdout) == {
        "deliveries": [],
        "next_before_id": None,
        "next_after_id": None,
        "total": 0,
        "total_is_lower_bound": False,
    }


def test_an_output_that_is_neither_text_nor_json_is_refused(bare: Rbtk) -> None:
    result = bare("admin", "--output", "yaml", "pd", "connectors", "list", env={"COLUMNS": "200"})

    assert (result.exit_code, result.stdout) == (2, "")
    assert "Invalid value for '--output'" in result.stderr
    assert "'yaml' is not one of 'text', 'json'" in result.stderr

"""`rbtk events send FILE`: events from a file or stdin, one result line each."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.conftest import UNREACHABLE, Rbtk, add_connector
from tests.factories import OTHER_KEY


def online(event_id: str, pool: str = "build-farm") -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "runner_pool.online",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T03:00:00Z",
        "data": {"pool_name": pool},
    }


@pytest.fixture
def sender(rbtk: Rbtk, events_token: str) -> Rbtk:
    """rbtk with a token of the events scope, as the platform would hold."""
    return rbtk.with_token(events_token)


def written(tmp_path: Path, content: object) -> str:
    path = tmp_path / "events.json"
    path.write_text(json.dumps(content))
    return str(path)


def test_a_file_with_one_event_prints_accepted(sender: Rbtk, tmp_path: Path) -> None:
    result = sender("events", "send", written(tmp_path, online("evt-1")))

    assert (result.exit_code, result.stdout, result.stderr) == (0, "accepted evt-1\n", "")


def test_a_misspelt_event_type_is_accepted_and_said_to_page_nobody(
    sender: Rbtk, tmp_path: Path
) -> None:
    event = {**online("evt-1"), "type": "runner_pool.ofline"}

    result = sender("events", "send", written(tmp_path, event))

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "accepted evt-1 (unknown event type runner_pool.ofline: no rule pages it; "
        "did you mean runner_pool.offline?)\n"
    )


def test_a_list_from_stdin_prints_a_line_per_event_in_order(sender: Rbtk) -> None:
    events = [online("evt-1"), online("evt-2"), online("evt-1")]

    result = sender("events", "send", "-", input=json.dumps(events))

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "accepted evt-1\naccepted evt-2\nduplicate evt-1\n"


def test_an_events_object_is_sent_as_it_is(sender: Rbtk, tmp_path: Path) -> None:
    file = written(tmp_path, {"events": [online("evt-1"), online("evt-2")]})

    result = sender("events", "send", file)

    assert (result.exit_code, result.stdout) == (0, "accepted evt-1\naccepted evt-2\n")


def test_an_event_sent_again_is_reported_as_a_duplicate(sender: Rbtk, tmp_path: Path) -> None:
    file = written(tmp_path, online("evt-1"))

    first = sender("events", "send", file)
    again = sender("events", "send", file)

    assert (first.exit_code, first.stdout) == (0, "accepted evt-1\n")
    assert (again.exit_code, again.stdout, again.stderr) == (0, "duplicate evt-1\n", "")


def test_rejected_events_are_named_by_index_and_id_the_rest_accepted_and_exit_is_1(
    sender: Rbtk,
) -> None:
    no_pool = {**online("evt-2"), "data": {}}
    no_id = {k: v for k, v in online("x").items() if k != "id"}
    events = [online("evt-1"), no_pool, no_id, online("evt-4")]

    result = sender("events", "send", "-", input=json.dumps(events))

    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout == (
        "accepted evt-1\n"
        "rejected #1 evt-2: data.pool_name: is required\n"
        "rejected #2 (no id): id: is required\n"
        "accepted evt-4\n"
    )


def test_more_than_1000_events_go_in_chunks_keeping_their_index(sender: Rbtk) -> None:
    events = [online(f"evt-{i}") for i in range(1001)] + [{**online("evt-bad"), "data": 1}]

    result = sender("events", "send", "-", input=json.dumps(events))

    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout == (
        "".join(f"accepted evt-{i}\n" for i in range(1001))
        + "rejected #1001 evt-bad: data: must be a JSON object\n"
    )


def test_a_file_that_is_not_json_is_named_with_where_it_went_wrong(
    sender: Rbtk, tmp_path: Path
) -> None:
    path = tmp_path / "events.json"
    path.write_text('{"id": "evt-1",\n "type" "runner_pool.online"}')

    result = sender("events", "send", str(path))

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {path} is not valid JSON: Expecting ':' delimiter (line 2, column 9)\n"
    )


def test_stdin_that_is_not_json_is_named_stdin(sender: Rbtk) -> None:
    result = sender("events", "send", "-", input="evt-1\n")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == ("error: stdin is not valid JSON: Expecting value (line 1, column 1)\n")


def test_a_file_that_does_not_exist_is_one_line(sender: Rbtk, tmp_path: Path) -> None:
    result = sender("events", "send", str(tmp_path / "nope.json"))

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: cannot read {tmp_path / 'nope.json'}: No such file or directory\n"
    )


@pytest.mark.parametrize(
    ("content", "error"),
    [
        pytest.param(
            "runner_pool.online",
            ' must hold one event object, a list of them, or {"events": [...]}',
            id="a string",
        ),
        pytest.param([], " holds no events", id="an empty list"),
        pytest.param({"events": []}, " holds no events", id="an empty events list"),
        pytest.param(
            {"events": online("evt-1")},
            ': "events" must be a list of events',
            id="events that are not a list",
        ),
    ],
)
def test_json_that_holds_no_events_is_refused_before_anything_is_sent(
    sender: Rbtk, tmp_path: Path, content: object, error: str
) -> None:
    file = written(tmp_path, content)

    result = sender.at(UNREACHABLE)("events", "send", file)

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {file}{error}\n")


def test_an_unreachable_server_is_one_line_and_exit_1(sender: Rbtk, tmp_path: Path) -> None:
    result = sender.at(UNREACHABLE)("events", "send", written(tmp_path, online("evt-1")))

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: cannot reach rbtk at http://127.0.0.1:9: [Errno 111] Connection refused\n"
    )


def test_without_a_token_it_says_how_to_create_an_events_token(
    sender: Rbtk, tmp_path: Path
) -> None:
    result = sender.with_token(None)("events", "send", written(tmp_path, online("evt-1")))

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: no API token: set RBTK_TOKEN to a token of this server; "
        "create one there with 'rbtk tokens create --scope events'\n"
    )


def test_a_bad_token_is_refused_without_being_printed(sender: Rbtk, tmp_path: Path) -> None:
    token = "rbtk_not-a-real-token"

    result = sender.with_token(token)("events", "send", written(tmp_path, online("evt-1")))

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: rbtk refused the token (invalid or revoked token): set RBTK_TOKEN; "
        "create one with 'rbtk tokens create --scope events'\n"
    )


def pr_failure(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "test_run.completed",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T03:00:00Z",
        "data": {
            "run_id": "run-9",
            "branch": "feature/x",
            "default_branch": False,
            "pull_request": 42,
            "status": "failed",
            "tests": [{"id": "nav/test_lidar", "status": "failed"}],
        },
    }


def test_show_says_why_a_pull_request_failure_did_not_page(
    rbtk: Rbtk, sender: Rbtk, tmp_path: Path
) -> None:
    sender("events", "send", written(tmp_path, pr_failure("pr/42 run")))

    result = rbtk("events", "show", "pr/42 run")

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["event:", "pr/42", "run", "(test_run.completed,", "project",
                                "warehouse)"]  # fmt: skip
    assert "paged:    no" in lines
    assert lines[lines.index("why not:") + 1] == (
        "  pull request #42: runs on pull requests never page"
    )
    assert lines[-1] == "no delivery"


def test_list_filters_events_that_did_not_page(rbtk: Rbtk, sender: Rbtk, tmp_path: Path) -> None:
    sender("events", "send", written(tmp_path, [pr_failure("pr-1"), online("evt-1")]))

    result = rbtk("events", "list", "--not-paged", "--type", "test_run.completed")

    assert result.exit_code == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split()[:3] == ["RECEIVED", "(UTC)", "ID"]
    assert row.split()[2:6] == ["pr-1", "test_run.completed", "warehouse", "no"]
    assert row.endswith("pull request #42: runs on pull requests never page")


def test_show_of_an_unknown_event_fails_with_the_reason(rbtk: Rbtk) -> None:
    result = rbtk("events", "show", "never-sent")

    assert result.exit_code == 1
    assert "no event has id 'never-sent'" in result.stderr


def test_show_lists_each_connectors_decision_on_the_page_an_event_started(
    rbtk: Rbtk, sender: Rbtk, api: httpx.Client, tmp_path: Path
) -> None:
    add_connector(api, "pd-production")
    add_connector(api, "pd-staging", OTHER_KEY, disable=["airgapped_pool_offline"])
    offline = {
        "id": "off-1",
        "type": "runner_pool.offline",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T03:00:00Z",
        "data": {"pool_name": "rig-1", "airgapped": True,
                 "last_heartbeat_at": "2026-05-25T02:40:00Z"},
    }  # fmt: skip
    sender("events", "send", written(tmp_path, offline))

    result = rbtk("events", "show", "off-1")

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("decisions:")
    key = "rbtk:pool-offline:warehouse:rig-1"
    off = "rule airgapped_pool_offline is switched off on pd-staging"
    # In the pipeline's order: the toggles stage, then the rows.
    assert lines[start + 1 : start + 3] == [
        f"  pd-staging: left out, {key}: {off}",
        f"  pd-production: sent (critical), {key}: sent to pd-production as critical",
    ]

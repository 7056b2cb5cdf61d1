"""`rbtk admin pd route list|add|remove|move|explain` against a running rbtk."""

import json
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import OTHER_KEY, Rbtk, add_connector

ROUTING = "/api/v1/pagerduty/routing"


@pytest.fixture
def two(api: httpx.Client) -> httpx.Client:
    """pd-production (default) and pd-staging (not default, capped at warning)."""
    add_connector(api, "pd-production")
    add_connector(api, "pd-staging", OTHER_KEY, is_default=False, max_severity="warning")
    return api


def rules(api: httpx.Client) -> list[dict[str, object]]:
    return list(api.get(ROUTING).json()["rules"])


def put(api: httpx.Client, *rules: dict[str, object]) -> None:
    answer = api.put(ROUTING, json={"rules": list(rules)})
    assert answer.status_code == 200, answer.text


def rule(
    position: int, project: str | None, event_type: str | None, *names: str
) -> dict[str, object]:
    return {
        "position": position,
        "project": project,
        "event_type": event_type,
        "connectors": list(names),
    }


# list


def test_list_without_rules_says_where_everything_goes(rbtk: Rbtk, two: httpx.Client) -> None:
    result = rbtk("admin", "pd", "route", "list")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "no routing rules: every event goes to the default connectors: pd-production\n"
    )


def test_list_shows_the_rules_in_order_and_the_defaults(rbtk: Rbtk, two: httpx.Client) -> None:
    put(
        two,
        rule(1, "warehouse", None, "pd-staging"),
        rule(2, None, "runner_pool.*", "pd-production", "pd-staging"),
    )

    result = rbtk("admin", "pd", "route", "list")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "POSITION  PROJECT    EVENT TYPE     CONNECTORS\n"
        "1         warehouse  (any)          pd-staging\n"
        "2         (any)      runner_pool.*  pd-production,pd-staging\n"
        "events no rule matches go to the default connectors: pd-production\n"
    )


def test_list_says_when_no_connector_is_default(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-staging", is_default=False)

    without_rules = rbtk("admin", "pd", "route", "list")
    put(api, rule(1, "warehouse", None, "pd-staging"))
    with_rules = rbtk("admin", "pd", "route", "list")

    assert without_rules.stdout == (
        "no routing rules and no default connector: nothing pages; mark one with "
        "'rbtk admin pd connectors update NAME --default'\n"
    )
    assert with_rules.stdout.endswith(
        "\nevents no rule matches page nobody: no connector is marked default; mark one with "
        "'rbtk admin pd connectors update NAME --default'\n"
    )


# add


def test_add_appends_a_rule_and_prints_the_list(rbtk: Rbtk, two: httpx.Client) -> None:
    put(two, rule(1, "warehouse", None, "pd-production"))

    result = rbtk(
        "admin", "pd", "route", "add", "--event-type", "runner_pool.*",
        "--connector", "pd-staging", "--connector", "pd-production",
    )  # fmt: skip

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "added routing rule at position 2\n"
        "POSITION  PROJECT    EVENT TYPE     CONNECTORS\n"
        "1         warehouse  (any)          pd-production\n"
        "2         (any)      runner_pool.*  pd-staging,pd-production\n"
        "events no rule matches go to the default connectors: pd-production\n"
    )
    assert rules(two) == [
        rule(1, "warehouse", None, "pd-production"),
        rule(2, None, "runner_pool.*", "pd-staging", "pd-production"),
    ]


def test_add_at_a_position_moves_the_others_down(rbtk: Rbtk, two: httpx.Client) -> None:
    put(two, rule(1, "warehouse", None, "pd-production"))

    result = rbtk(
        "admin", "pd", "route", "add", "--project", "staging-*", "--connector", "pd-staging",
        "--position", "1",
    )  # fmt: skip

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("added routing rule at position 1\n")
    assert rules(two) == [
        rule(1, "staging-*", None, "pd-staging"),
        rule(2, "warehouse", None, "pd-production"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--project", "warehouse", "--connector", "pd-nope"],
            "position 2: no connector named 'pd-nope'",
            id="unknown connector",
        ),
        pytest.param(
            ["--connector", "pd-staging"],
            "position 2: matches every event; give a project or an event type (events that "
            "no rule matches go to the default connectors)",
            id="no matcher",
        ),
        pytest.param(
            ["--project", "", "--connector", "pd-staging"],
            "position 2: project is empty; leave it out to match every project",
            id="empty project",
        ),
        pytest.param(
            ["--event-type", "runner_pool.ofline", "--connector", "pd-staging"],
            "position 2: event_type 'runner_pool.ofline' is not a known event type; did you "
            "mean 'runner_pool.offline'? (a pattern with * ? or [ matches several)",
            id="unknown event type",
        ),
        pytest.param(
            ["--project", "a", "--connector", "pd-staging", "--position", "3"],
            "position 3: positions for a new rule are 1 to 2",
            id="position past the end",
        ),
    ],
)
def test_add_refuses_bad_input_and_changes_nothing(
    rbtk: Rbtk, two: httpx.Client, args: list[str], message: str
) -> None:
    put(two, rule(1, "warehouse", None, "pd-production"))

    result = rbtk("admin", "pd", "route", "add", *args)

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")
    assert rules(two) == [rule(1, "warehouse", None, "pd-production")]


def test_add_without_a_connector_is_a_usage_error(rbtk: Rbtk, two: httpx.Client) -> None:
    result = rbtk("admin", "pd", "route", "add", "--project", "warehouse")

    assert (result.exit_code, result.stdout) == (2, "")
    assert "Missing option '--connector'" in result.stderr
    assert rules(two) == []


def test_add_refuses_position_0_before_calling_the_server(rbtk: Rbtk, two: httpx.Client) -> None:
    result = rbtk(
        "admin", "pd", "route", "add", "--project", "a", "--connector", "pd-staging",
        "--position", "0",
    )  # fmt: skip

    assert (result.exit_code, result.stdout) == (2, "")
    assert "Invalid value for '--position'" in result.stderr
    assert rules(two) == []


# remove and move


def test_remove_deletes_the_rule_and_renumbers(rbtk: Rbtk, two: httpx.Client) -> None:
    put(two, rule(1, "a", None, "pd-staging"), rule(2, "b", None, "pd-production"))

    result = rbtk("admin", "pd", "route", "remove", "1")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "removed routing rule 1\n"
        "POSITION  PROJECT  EVENT TYPE  CONNECTORS\n"
        "1         b        (any)       pd-production\n"
        "events no rule matches go to the default connectors: pd-production\n"
    )
    assert rules(two) == [rule(1, "b", None, "pd-production")]


def test_remove_of_a_position_not_there_says_which_are(rbtk: Rbtk, two: httpx.Client) -> None:
    put(two, rule(1, "a", None, "pd-staging"))

    result = rbtk("admin", "pd", "route", "remove", "2")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == ("error: no rule at position 2: the only position for a rule is 1\n")
    assert rules(two) == [rule(1, "a", None, "pd-staging")]


def test_move_reorders_the_rules(rbtk: Rbtk, two: httpx.Client) -> None:
    put(
        two,
        rule(1, "a", None, "pd-staging"),
        rule(2, "b", None, "pd-production"),
        rule(3, "c", None, "pd-staging"),
    )

    result = rbtk("admin", "pd", "route", "move", "3", "--to", "1")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("moved routing rule 3 to position 1\n")
    assert [r["project"] for r in rules(two)] == ["c", "a", "b"]


def test_move_to_a_position_not_there_changes_nothing(rbtk: Rbtk, two: httpx.Client) -> None:
    put(two, rule(1, "a", None, "pd-staging"), rule(2, "b", None, "pd-production"))

    result = rbtk("admin", "pd", "route", "move", "1", "--to", "5")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == ("error: cannot move to position 5: positions for a rule are 1 to 2\n")
    assert [r["project"] for r in rules(two)] == ["a", "b"]


# explain


def write(tmp_path: Path, content: object) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(content) if not isinstance(content, str) else content)
    return str(path)


OFFLINE = {
    "type": "runner_pool.offline",
    "project_slug": "staging-east",
    "data": {"pool_name": "hil-rig-2", "airgapped": True, "last_heartbeat_at": "2026-01-01T00:00Z"},
}


def test_explain_prints_the_rule_the_connectors_and_what_each_would_page(
    rbtk: Rbtk, two: httpx.Client, tmp_path: Path
) -> None:
    put(two, rule(1, "staging-*", None, "pd-staging"))

    result = rbtk("admin", "pd", "route", "explain", write(tmp_path, OFFLINE))

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "event:      runner_pool.offline in project staging-east\n"
        "rule:       1\n"
        "connectors: pd-staging\n"
        "reason:     rule 1 (project 'staging-*', event type any) is the first to match "
        "project 'staging-east' and event type 'runner_pool.offline'\n"
        "pages:\n"
        "  CONNECTOR   RULE                    OUTCOME\n"
        "  pd-staging  airgapped_pool_offline  sent as warning (capped from critical)\n"
        "  pd-staging  pool_offline            not sent again: pd-staging was already paged at "
        "warning\n"
        "nothing was sent\n"
    )
    assert two.get("/api/v1/pagerduty/deliveries").json()["deliveries"] == []


def test_explain_on_an_80_column_terminal_keeps_its_table_inside_80_columns(
    rbtk: Rbtk, two: httpx.Client, tmp_path: Path
) -> None:
    put(two, rule(1, "staging-*", None, "pd-staging"))

    result = rbtk(
        "admin", "pd", "route", "explain", write(tmp_path, OFFLINE), env={"COLUMNS": "80"}
    )

    assert (result.exit_code, result.stderr) == (0, "")
    table = result.stdout.split("pages:\n")[1].splitlines()[:3]
    assert max(len(line) for line in table) == 80
    assert table[2].startswith("  pd-staging  pool_offline            not sent again: pd-stag")


def test_explain_of_an_event_that_pages_no_rule(
    rbtk: Rbtk, two: httpx.Client, tmp_path: Path
) -> None:
    event = {
        "type": "release.published",
        "project_slug": "warehouse",
        "data": {"tag": "v1", "branch": "main"},
    }

    result = rbtk("admin", "pd", "route", "explain", write(tmp_path, event))

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "event:      release.published in project warehouse\n"
        "rule:       none\n"
        "connectors: pd-production\n"
        "reason:     no rule matches project 'warehouse' and event type 'release.published': "
        "it goes to the default connectors\n"
        "pages:      none: no paging rule acts on this release.published event\n"
        "nothing was sent\n"
    )


def test_explain_of_a_misspelt_event_type_says_no_rule_pages_it(
    rbtk: Rbtk, two: httpx.Client, tmp_path: Path
) -> None:
    event = {**OFFLINE, "type": "runner_pool.ofline"}

    result = rbtk("admin", "pd", "route", "explain", write(tmp_path, event))

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines()[:2] == [
        "event:      runner_pool.ofline in project staging-east",
        "notice:     unknown event type runner_pool.ofline: no rule pages it; did you mean "
        "runner_pool.offline?",
    ]


def test_explain_reads_stdin(rbtk: Rbtk, two: httpx.Client) -> None:
    result = rbtk("admin", "pd", "route", "explain", "-", input=json.dumps(OFFLINE))

    assert result.exit_code == 0
    assert "connectors: pd-production\n" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{", "is not valid JSON: Expecting property name enclosed in double "
                     "quotes (line 1, column 2)", id="not JSON"),
        pytest.param([OFFLINE], "must hold one event: a JSON object", id="a list"),
    ],
)  # fmt: skip
def test_explain_refuses_a_file_that_is_not_one_event(
    rbtk: Rbtk, two: httpx.Client, tmp_path: Path, content: object, message: str
) -> None:
    path = write(tmp_path, content)

    result = rbtk("admin", "pd", "route", "explain", path)

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {path} {message}\n")


def test_explain_passes_on_the_servers_complaint_about_the_event(
    rbtk: Rbtk, two: httpx.Client, tmp_path: Path
) -> None:
    path = write(tmp_path, {"type": "runner_pool.offline", "data": {}})

    result = rbtk("admin", "pd", "route", "explain", path)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: event is invalid: project_slug: is required; data.pool_name: is required\n"
    )


def test_explain_of_a_missing_file_says_so(rbtk: Rbtk, tmp_path: Path) -> None:
    result = rbtk("admin", "pd", "route", "explain", str(tmp_path / "nope.json"))

    assert (result.exit_code, result.stdout) == (1, "")
    assert (
        result.stderr == f"error: cannot read {tmp_path / 'nope.json'}: No such file or directory\n"
    )

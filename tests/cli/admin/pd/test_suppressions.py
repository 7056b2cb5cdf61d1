"""`rbtk admin pd suppressions list|end` against a running rbtk (and its emulator)."""

from typing import Any

import httpx
import pytest

from tests.cli.conftest import OTHER_KEY, Rbtk, add_connector, shown
from tests.waiting import wait_for

WINDOWS = "/api/v1/pagerduty/suppressions"
EVIDENCE_FAILED = {
    "id": "evt-ep-1",
    "type": "evidence_pack.generation_failed",
    "project_slug": "warehouse",
    "occurred_at": "2026-05-25T03:00:00Z",
    "data": {"release_tag": "v1.4.0"},
}


@pytest.fixture
def two(api: httpx.Client) -> httpx.Client:
    add_connector(api, "pd-production")
    add_connector(api, "pd-staging", OTHER_KEY)
    return api


def open_window(api: httpx.Client, connector: str, **body: Any) -> dict[str, Any]:
    answer = api.post(
        WINDOWS, json={"connector": connector, "reason": "Maintenance", "duration_s": 3600} | body
    )
    assert answer.status_code == 201, answer.text
    [window] = answer.json()["suppressions"]
    return dict(window)


def test_list_shows_open_windows_with_who_and_why(rbtk: Rbtk, two: httpx.Client) -> None:
    first = open_window(two, "pd-production")
    second = open_window(two, "pd-staging", reason="Rack move", duration_s=7200)

    result = rbtk("admin", "pd", "suppressions", "list")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "ID  CONNECTOR      STATE   STARTS (UTC)         ENDS (UTC)           BY    REASON\n"
        f"{first['id']}   pd-production  active  {shown(first['starts_at'])}  "
        f"{shown(first['ends_at'])}  test  Maintenance\n"
        f"{second['id']}   pd-staging     active  {shown(second['starts_at'])}  "
        f"{shown(second['ends_at'])}  test  Rack move\n"
    )


def test_list_with_all_shows_ended_windows_and_with_a_connector_only_its_own(
    rbtk: Rbtk, two: httpx.Client
) -> None:
    ended = open_window(two, "pd-production")
    two.post(f"{WINDOWS}/{ended['id']}/end")
    kept = open_window(two, "pd-staging")

    everything = rbtk("admin", "pd", "suppressions", "list", "--all")
    staging = rbtk("admin", "pd", "suppressions", "list", "--connector", "pd-staging")
    production = rbtk("admin", "pd", "suppressions", "list", "--connector", "pd-production")

    assert everything.exit_code == 0
    assert [line.split()[:3] for line in everything.stdout.splitlines()[1:]] == [
        [str(ended["id"]), "pd-production", "ended"],
        [str(kept["id"]), "pd-staging", "active"],
    ]
    ended_at = shown(two.get(f"{WINDOWS}/{ended['id']}").json()["ends_at"])
    assert f"ended early at {ended_at[11:16]} by test" in everything.stdout
    assert [line.split()[1] for line in staging.stdout.splitlines()[1:]] == ["pd-staging"]
    assert production.stdout == (
        "no active or scheduled suppression windows on pd-production (--all shows ended ones too)\n"
    )


def test_list_without_windows_says_so(rbtk: Rbtk, two: httpx.Client) -> None:
    result = rbtk("admin", "pd", "suppressions", "list", "--all")

    assert (result.exit_code, result.stdout) == (0, "no suppression windows\n")


def test_list_of_an_unknown_connector_is_one_line_and_exit_1(rbtk: Rbtk, two: httpx.Client) -> None:
    result = rbtk("admin", "pd", "suppressions", "list", "--connector", "pd-nope")

    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "error: no connector named 'pd-nope'\n",
    )


def test_end_ends_a_window_now(rbtk: Rbtk, two: httpx.Client) -> None:
    window = open_window(two, "pd-production")

    result = rbtk("admin", "pd", "suppressions", "end", str(window["id"]))

    ended = two.get(f"{WINDOWS}/{window['id']}").json()
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"ended suppression window #{window['id']} on pd-production at "
        f"{shown(ended['ends_at'])} UTC by test: held-back triggers of conditions still "
        "firing are sent now\n"
    )
    assert (ended["state"], ended["ended_early_at"]) == ("ended", ended["ends_at"])
    assert ended["ended_by"] == "test"  # the name of the token the command used


def test_end_of_a_window_already_over_is_refused_and_changes_nothing(
    rbtk: Rbtk, two: httpx.Client
) -> None:
    window = open_window(two, "pd-production")
    ended = two.post(f"{WINDOWS}/{window['id']}/end").json()

    result = rbtk("admin", "pd", "suppressions", "end", str(window["id"]))

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: suppression window #{window['id']} already ended at {ended['ends_at']}\n"
    )
    after = two.get(f"{WINDOWS}/{window['id']}").json()
    assert (after["ends_at"], after["ended_early_at"]) == (ended["ends_at"], ended["ends_at"])


@pytest.mark.parametrize(
    ("window_id", "code", "message"),
    [
        ("42", 1, "error: no suppression window #42\n"),
        ("0", 2, "Invalid value for 'ID'"),
        ("latest", 2, "Invalid value for 'ID'"),
    ],
)
def test_end_of_a_window_that_does_not_exist_is_refused(
    rbtk: Rbtk, two: httpx.Client, window_id: str, code: int, message: str
) -> None:
    result = rbtk("admin", "pd", "suppressions", "end", window_id)

    assert (result.exit_code, result.stdout) == (code, "")
    assert message in result.stderr


def test_a_trigger_held_back_reaches_pagerduty_once_the_window_is_ended(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client
) -> None:
    add_connector(api, "pd-production")
    suppressed = rbtk(
        "admin", "pd", "suppress", "--connector", "pd-production", "--for", "2h",
        "--reason", "Maintenance",
    )  # fmt: skip
    [window] = api.get(WINDOWS).json()["suppressions"]

    assert api.post("/api/v1/events", json=EVIDENCE_FAILED).status_code == 202
    [held] = api.get("/api/v1/pagerduty/deliveries").json()["deliveries"]

    assert suppressed.exit_code == 0
    assert (held["status"], held["message"]) == (
        "suppressed",
        f"held back by suppression #{window['id']}: Maintenance",
    )
    assert pd.get("/_inspect/alerts").json()["alerts"] == []

    ended = rbtk("admin", "pd", "suppressions", "end", str(window["id"]))

    assert ended.exit_code == 0
    [alert] = wait_for(
        lambda: pd.get("/_inspect/alerts").json()["alerts"], what="the released trigger"
    )
    assert alert["dedup_key"] == held["dedup_key"]

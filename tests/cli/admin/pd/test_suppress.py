"""`rbtk admin pd suppress`: the documented command, relative forms, and refusals."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.cli.conftest import OTHER_KEY, Rbtk, add_connector, shown

WINDOWS = "/api/v1/pagerduty/suppressions"
NOTE = (
    "triggers are held back and logged as suppressed; resolves still go out; conditions "
    "still firing at the end are triggered then\n"
)


def minutes_z(moment: datetime) -> str:
    """The documented form: minutes and Z, no seconds (2026-05-25T03:00Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def windows(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get(WINDOWS, params={"include_ended": "true"}).json()["suppressions"])


@pytest.fixture
def production(api: httpx.Client) -> httpx.Client:
    add_connector(api, "pd-production")
    return api


def test_the_documented_command_opens_a_window_until_the_time_given(
    rbtk: Rbtk, production: httpx.Client
) -> None:
    until = minutes_z(datetime.now(UTC) + timedelta(days=1))

    result = rbtk(
        "admin", "pd", "suppress", "--connector", "pd-production", "--until", until,
        "--reason", "Maintenance",
    )  # fmt: skip

    [window] = windows(production)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"suppression window #{window['id']} on pd-production: {shown(window['starts_at'])} to "
        f"{shown(window['ends_at'])} UTC, Maintenance\n" + NOTE
    )
    assert window["ends_at"] == until.replace("Z", ":00Z")
    assert (window["state"], window["reason"], window["created_by"]) == (
        "active",
        "Maintenance",
        "test",
    )


def test_for_gives_a_window_of_that_length_from_now(rbtk: Rbtk, production: httpx.Client) -> None:
    before = datetime.now(UTC)

    result = rbtk(
        "admin", "pd", "suppress", "--connector", "pd-production", "--for", "1h30m",
        "--reason", "Maintenance",
    )  # fmt: skip

    [window] = windows(production)
    starts = datetime.fromisoformat(window["starts_at"])
    assert result.exit_code == 0
    assert before <= starts <= datetime.now(UTC)
    assert datetime.fromisoformat(window["ends_at"]) - starts == timedelta(hours=1, minutes=30)


def test_until_tomorrow_ends_the_window_at_that_time_on_the_next_utc_day(
    rbtk: Rbtk, production: httpx.Client
) -> None:
    today = datetime.now(UTC).date()

    result = rbtk(
        "admin", "pd", "suppress", "--connector", "pd-production", "--until-tomorrow", "06:00",
        "--reason", "Night work",
    )  # fmt: skip

    [window] = windows(production)
    assert result.exit_code == 0, result.stderr
    tomorrow = today + timedelta(days=1)
    assert window["ends_at"] == f"{tomorrow:%Y-%m-%d}T06:00:00Z"
    assert result.stdout.startswith(
        f"suppression window #{window['id']} on pd-production: {shown(window['starts_at'])} to "
        f"{tomorrow:%Y-%m-%d} 06:00:00 UTC, Night work\n"
    )


def test_from_and_for_give_a_window_to_come(rbtk: Rbtk, production: httpx.Client) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)

    result = rbtk(
        "admin", "pd", "suppress", "--connector", "pd-production", "--from", minutes_z(start),
        "--for", "1d", "--reason", "Rack move",
    )  # fmt: skip

    [window] = windows(production)
    assert result.exit_code == 0
    assert (window["state"], window["starts_at"], window["ends_at"]) == (
        "scheduled",
        minutes_z(start).replace("Z", ":00Z"),
        minutes_z(start + timedelta(days=1)).replace("Z", ":00Z"),
    )


def test_an_offset_is_accepted_and_kept_in_utc(rbtk: Rbtk, production: httpx.Client) -> None:
    until = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    local = until.astimezone(datetime.now(UTC).astimezone().tzinfo).isoformat(timespec="minutes")

    result = rbtk(
        "admin", "pd", "suppress", "--connector", "pd-production", "--until", local,
        "--reason", "Maintenance",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert windows(production)[0]["ends_at"] == minutes_z(until).replace("Z", ":00Z")


def test_all_connectors_get_a_window_each(rbtk: Rbtk, production: httpx.Client) -> None:
    add_connector(production, "pd-staging", OTHER_KEY)

    result = rbtk("admin", "pd", "suppress", "--all-connectors", "--for", "2h", "--reason", "DC")

    assert (result.exit_code, result.stderr) == (0, "")
    assert [w["connector"] for w in windows(production)] == ["pd-production", "pd-staging"]
    assert result.stdout.count("suppression window #") == 2


TOMORROW = minutes_z(datetime.now(UTC) + timedelta(days=1))
PAST = "2020-01-01T00:00Z"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--connector", "pd-production", "--until", "2026-05-25T03:00"],
            "--until: '2026-05-25T03:00' has no timezone; add Z or an offset such as +02:00",
            id="naive until",
        ),
        pytest.param(
            ["--connector", "pd-production", "--until", "tomorrow"],
            "--until: 'tomorrow' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z",
            id="not a time",
        ),
        pytest.param(
            ["--connector", "pd-production", "--until", PAST],
            f"--until {PAST} is in the past (it is now ",
            id="past until",
        ),
        pytest.param(
            ["--connector", "pd-production", "--until", TOMORROW, "--from", "2099-01-01T00:00Z"],
            f"--until {TOMORROW} is not after --from 2099-01-01T00:00Z: a window ends after it "
            "starts",
            id="until before from",
        ),
        pytest.param(
            ["--connector", "pd-production", "--for", "1h", "--from", "2026-05-25 03:00"],
            "--from: '2026-05-25 03:00' has no timezone; add Z or an offset such as +02:00",
            id="naive from",
        ),
        pytest.param(
            ["--connector", "pd-production", "--for", "1h", "--from", "2020-01-01T00:00Z"],
            "ends_at: 2020-01-01T01:00:00Z is in the past (it is now ",
            id="from and for in the past",
        ),
        pytest.param(
            ["--connector", "pd-production", "--for", "2 hours"],
            "--for: '2 hours' is not a duration: use a number and a unit (d, h, m or s), e.g. "
            "30m, 2h, 1d or 1h30m",
            id="bad duration",
        ),
        pytest.param(
            ["--connector", "pd-production", "--for", "0m"],
            "--for: '0m' is no time at all; give a length such as 2h",
            id="zero duration",
        ),
        pytest.param(
            ["--connector", "pd-production", "--for", "1h", "--until", TOMORROW],
            "give only one of --until TIME, --for DURATION and --until-tomorrow HH:MM",
            id="until and for",
        ),
        pytest.param(
            ["--connector", "pd-production", "--for", "1h", "--until-tomorrow", "06:00"],
            "give only one of --until TIME, --for DURATION and --until-tomorrow HH:MM",
            id="for and until tomorrow",
        ),
        pytest.param(
            ["--connector", "pd-production", "--until-tomorrow", "6am"],
            "--until-tomorrow: '6am' is not a time of day: use HH:MM in UTC, e.g. 06:00",
            id="until tomorrow at no time",
        ),
        pytest.param(
            ["--connector", "pd-production"],
            "give when the window ends: --until TIME (e.g. 2026-05-25T03:00Z), --for "
            "DURATION (e.g. 2h) or --until-tomorrow HH:MM (e.g. 06:00 UTC)",
            id="no end",
        ),
        pytest.param(
            ["--until", TOMORROW],
            "give the connector to hold: --connector NAME, or --all-connectors",
            id="no connector",
        ),
        pytest.param(
            ["--connector", "pd-production", "--all-connectors", "--for", "1h"],
            "give --connector NAME or --all-connectors, not both",
            id="connector and all",
        ),
        pytest.param(
            ["--connector", "pd-nope", "--for", "1h"],
            "no connector named 'pd-nope'",
            id="unknown connector",
        ),
        pytest.param(
            ["--connector", "pd-production", "--for", "1h", "--reason", " "],
            "reason: must not be empty; say why, e.g. 'Maintenance'",
            id="blank reason",
        ),
    ],
)
def test_bad_input_is_refused_with_one_line_and_opens_nothing(
    rbtk: Rbtk, production: httpx.Client, args: list[str], message: str
) -> None:
    if "--reason" not in args:
        args = [*args, "--reason", "Maintenance"]

    result = rbtk("admin", "pd", "suppress", *args)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(f"error: {message}")
    assert result.stderr.count("\n") == 1
    assert windows(production) == []


def test_the_reason_is_required(rbtk: Rbtk, production: httpx.Client) -> None:
    result = rbtk("admin", "pd", "suppress", "--connector", "pd-production", "--for", "1h")

    assert (result.exit_code, result.stdout) == (2, "")
    assert "Missing option '--reason'" in result.stderr
    assert windows(production) == []

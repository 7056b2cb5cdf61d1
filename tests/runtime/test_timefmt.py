"""RFC 3339: what rbtk accepts, what it refuses (saying why), and what it writes; lengths of
time as the policy's texts say them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rbtk.runtime.timefmt import duration, format_rfc3339, parse_rfc3339, tomorrow_at

MAY_25 = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-05-25T03:00:00Z", MAY_25, id="UTC with Z"),
        pytest.param("2026-05-25T05:00:00+02:00", MAY_25, id="an offset, converted to UTC"),
        pytest.param("2026-05-24T22:30:00-04:30", MAY_25, id="a negative offset"),
        pytest.param("2026-05-25T03:00:00-00:00", MAY_25, id="unknown local offset"),
        pytest.param("2026-05-25t03:00:00z", MAY_25, id="lower-case t and z"),
        pytest.param("2026-05-25 03:00:00Z", MAY_25, id="a space for the T"),
        pytest.param("2026-05-25T03:00Z", MAY_25, id="seconds left out, as operators type"),
        pytest.param(
            "2026-05-25T03:00:00.250Z",
            MAY_25 + timedelta(milliseconds=250),
            id="fractional seconds",
        ),
        pytest.param(
            "2026-05-25T03:00:00.123456789Z",
            MAY_25 + timedelta(microseconds=123456),
            id="nanoseconds, cut to microseconds",
        ),
        pytest.param(
            "2024-02-29T23:59:59Z",
            datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
            id="a leap day",
        ),
    ],
)
def test_rfc3339_timestamps_with_a_timezone_parse_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            "2026-05-25T03:00:00",
            "'2026-05-25T03:00:00' has no timezone; add Z or an offset such as +02:00",
            id="naive",
        ),
        pytest.param(
            "2026-05-25 03:00",
            "'2026-05-25 03:00' has no timezone; add Z or an offset such as +02:00",
            id="naive without seconds",
        ),
        pytest.param(
            "2026-05-25T03:00:00+0200",
            "'2026-05-25T03:00:00+0200' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z",
            id="an offset without its colon",
        ),
        pytest.param(
            "2026-05-25",
            "'2026-05-25' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z",
            id="a date only",
        ),
        pytest.param(
            "yesterday",
            "'yesterday' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z",
            id="words",
        ),
        pytest.param("", "'' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z", id="empty"),
        pytest.param(
            "2026-05-25T03:00:00Z\n",
            "'2026-05-25T03:00:00Z\\n' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z",
            id="a trailing newline",
        ),
        pytest.param(
            "２０２６-05-25T03:00:00Z",
            "'２０２６-05-25T03:00:00Z' is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z",
            id="digits that are not ASCII",
        ),
        pytest.param(
            "2026-02-30T03:00:00Z",
            "'2026-02-30T03:00:00Z' is not a valid date and time: day is out of range for month",
            id="a day that does not exist",
        ),
        pytest.param(
            "2026-05-25T24:00:00Z",
            "'2026-05-25T24:00:00Z' is not a valid date and time: hour must be in 0..23",
            id="hour 24",
        ),
        pytest.param(
            1_779_678_000,
            "must be an RFC 3339 timestamp string, e.g. 2026-05-25T03:00:00Z",
            id="a Unix timestamp",
        ),
        pytest.param(
            None, "must be an RFC 3339 timestamp string, e.g. 2026-05-25T03:00:00Z", id="null"
        ),
        pytest.param(
            datetime(2026, 5, 25, 3, 0),
            "must be an RFC 3339 timestamp string, e.g. 2026-05-25T03:00:00Z",
            id="a naive datetime object",
        ),
    ],
)
def test_anything_else_is_refused_saying_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_rfc3339(value)
    assert str(raised.value) == message


def test_an_aware_datetime_object_is_accepted_and_converted_to_utc() -> None:
    berlin = timezone(timedelta(hours=2))
    parsed = parse_rfc3339(datetime(2026, 5, 25, 5, 0, tzinfo=berlin))
    assert parsed == MAY_25
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        pytest.param(MAY_25, "2026-05-25T03:00:00Z", id="UTC is written with Z"),
        pytest.param(
            datetime(2026, 5, 25, 5, 0, tzinfo=timezone(timedelta(hours=2))),
            "2026-05-25T03:00:00Z",
            id="other offsets are written in UTC",
        ),
        pytest.param(
            MAY_25 + timedelta(microseconds=1500),
            "2026-05-25T03:00:00.001500Z",
            id="microseconds are kept",
        ),
    ],
)
def test_timestamps_are_written_in_utc_with_z(moment: datetime, text: str) -> None:
    assert format_rfc3339(moment) == text


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(8999, 12, 30),  # timefmt.LATEST: rbtk writes no later time
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
        ),
    )
)
def test_what_rbtk_writes_it_reads_back_as_the_same_moment(moment: datetime) -> None:
    text = format_rfc3339(moment)
    assert text.endswith("Z")
    assert parse_rfc3339(text) == moment
    assert format_rfc3339(parse_rfc3339(text)) == text


@pytest.mark.parametrize(
    ("clock", "after", "expected"),
    [
        pytest.param("06:00", MAY_25, datetime(2026, 5, 26, 6, tzinfo=UTC), id="the next day"),
        pytest.param(
            "6:30",
            datetime(2026, 5, 31, 23, 59, tzinfo=UTC),
            datetime(2026, 6, 1, 6, 30, tzinfo=UTC),
            id="across a month, one hour digit",
        ),
        pytest.param(
            "06:00",
            datetime(2026, 5, 25, 23, 30, tzinfo=timezone(timedelta(hours=-2))),
            datetime(2026, 5, 27, 6, tzinfo=UTC),
            id="tomorrow in UTC, where it is already the 26th",
        ),
    ],
)
def test_tomorrow_at_is_that_time_on_the_next_utc_day(
    clock: str, after: datetime, expected: datetime
) -> None:
    assert tomorrow_at(clock, after) == expected


@pytest.mark.parametrize("clock", ["24:00", "6", "06:60", "6am", ""])
def test_tomorrow_at_refuses_what_is_not_a_time_of_day(clock: str) -> None:
    with pytest.raises(ValueError) as raised:
        tomorrow_at(clock, MAY_25)

    assert str(raised.value) == f"{clock!r} is not a time of day: use HH:MM in UTC, e.g. 06:00"


@pytest.mark.parametrize(
    ("seconds", "short", "long"),
    [
        pytest.param(0, "0 s", "0 seconds", id="none"),
        pytest.param(1, "1 s", "1 second", id="one second, in the singular"),
        pytest.param(10.00002, "10 s", "10 seconds", id="the demo's 0.166667 minutes"),
        pytest.param(9.999996, "10 s", "10 seconds", id="0.1666666 minutes, not 9 s"),
        pytest.param(59.9, "59 s", "59 seconds", id="rounded down"),
        pytest.param(60, "1 min", "1 minute", id="one minute, in the singular"),
        pytest.param(90, "1 min 30 s", "1 minute 30 seconds", id="a minute and a half"),
        pytest.param(121, "2 min 1 s", "2 minutes 1 second", id="both in the singular"),
        pytest.param(900, "15 min", "15 minutes", id="the air-gapped threshold"),
        pytest.param(3600, "60 min", "60 minutes", id="an hour, in minutes as thresholds are set"),
        pytest.param(4200, "70 min", "70 minutes", id="past an hour"),
    ],
)
def test_durations_read_in_seconds_under_a_minute_and_never_as_fractions(
    seconds: float, short: str, long: str
) -> None:
    assert (duration(seconds), duration(seconds, words=True)) == (short, long)

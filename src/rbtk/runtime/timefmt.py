"""RFC 3339 timestamps, the only time format rbtk accepts or writes; and lengths of time
as people read them."""

import re
from datetime import UTC, datetime, time, timedelta

# Far enough from datetime's limits that adding a threshold, a retry age or a window's
# length to an accepted time can never overflow; far wider than any real event's time.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

# ASCII digits only, and the whole string: `$` alone would let a trailing newline through.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
# What parse_rfc3339 takes, as JSON Schema states it: a date-time with a timezone, within
# EARLIEST to LATEST (by year: a document cannot say more).
RFC3339_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": "^(19[7-9][0-9]|[2-8][0-9]{3})-",
}
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?", re.ASCII)


def parse_rfc3339(value: object) -> datetime:
    """Parse an RFC 3339 timestamp with a timezone; raise ValueError saying what is wrong.

    Seconds may be left out ("2026-05-25T03:00Z") because operators type that form.
    """
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string, e.g. 2026-05-25T03:00:00Z")
    if not _RFC3339.fullmatch(value):
        if _NAIVE.fullmatch(value):
            raise ValueError(f"{value!r} has no timezone; add Z or an offset such as +02:00")
        raise ValueError(f"{value!r} is not an RFC 3339 timestamp, e.g. 2026-05-25T03:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date and time: {exc}") from None
    out_of_range = ValueError(
        f"{value!r} is outside the supported range "
        f"{format_rfc3339(EARLIEST)} to {format_rfc3339(LATEST)}"
    )
    try:
        moment = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before datetime.min in UTC
        raise out_of_range from None
    if not EARLIEST <= moment < LATEST:
        raise out_of_range
    return moment


def format_rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)", re.ASCII)


def tomorrow_at(clock: str, after: datetime) -> datetime:
    """`clock` ("06:00", UTC, as every page and command shows times) on the day after `after`:
    what "until tomorrow 06:00" means. Raise ValueError saying what is wrong."""
    match = _TIME_OF_DAY.fullmatch(clock.strip())
    if match is None:
        raise ValueError(f"{clock!r} is not a time of day: use HH:MM in UTC, e.g. 06:00")
    day = after.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(day, time(int(match[1]), int(match[2])), tzinfo=UTC)


def duration(seconds: float, *, words: bool = False) -> str:
    """A threshold, or how long something has lasted, as the policy's texts say it: in
    minutes and seconds, never hours, since thresholds are set in minutes (60 reads "60 min").
    "10 s", "1 min 30 s", "15 min"; with `words`, "10 seconds", "1 minute 30 seconds",
    "15 minutes". Whole seconds, rounded down."""
    # To the millisecond first: a threshold of 0.1666666 minutes is 9.999996 s, and reads 10 s.
    whole = int(round(max(seconds, 0.0), 3))
    minutes, rest = divmod(whole, 60)
    if words:
        units = ((minutes, "minute", "minutes"), (rest, "second", "seconds"))
    else:
        units = ((minutes, "min", "min"), (rest, "s", "s"))
    said = [f"{n} {one if n == 1 else many}" for n, one, many in units if n]
    return " ".join(said) or f"0 {units[1][2]}"


def span(seconds: float) -> str:
    """A length of time as a person says it: "45 s", "6 min", "2 h 5 min", "3 days"."""
    whole = int(max(seconds, 0))
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"

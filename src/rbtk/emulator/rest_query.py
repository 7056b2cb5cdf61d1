"""The REST API's list parameters and classic pagination, as PagerDuty documents them.

Pagination: `limit` defaults to 25 and is capped at 100 (the answer echoes what was used),
`offset` defaults to 0, `offset + limit` may not pass 10000, and `total` is null unless
`total=true`. List incidents looks at incidents created in [`since`, `until`): `until`
defaults to now and `since` to 30 days before `until` (PagerDuty: "default is 1 month");
`date_range=all` ignores both. A time without an offset is read as UTC (PagerDuty reads it in
the account's time zone). A range over 6 months (180 days here) is refused as PagerDuty
refuses it. Bad values answer 400 with PagerDuty's error body (`InvalidQuery.body`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

from starlette.datastructures import QueryParams

from rbtk.emulator.rest_access import rest_error

DEFAULT_LIMIT: Final = 25
MAX_LIMIT: Final = 100
MAX_RECORDS: Final = 10_000
DEFAULT_SPAN: Final = timedelta(days=30)
MAX_SPAN: Final = timedelta(days=180)
INCIDENT_STATUSES: Final = ("triggered", "acknowledged", "resolved")
ALERT_STATUSES: Final = ("triggered", "resolved")

T = TypeVar("T")


class InvalidQuery(ValueError):
    def __init__(self, message: str, code: int, *errors: str) -> None:
        super().__init__(message)
        self.body = rest_error(message, code, list(errors))


def invalid_input(*errors: str) -> InvalidQuery:
    return InvalidQuery("Invalid Input Provided", 2001, *errors)


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int
    total: bool

    @classmethod
    def of(cls, params: QueryParams) -> "Page":
        limit = min(_natural(params, "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT, MAX_LIMIT)
        offset = _natural(params, "offset", 0)
        if offset + limit > MAX_RECORDS:
            raise invalid_input(f"Offset + limit must not exceed {MAX_RECORDS}.")
        return cls(limit, offset, params.get("total", "false").lower() == "true")

    def answer(
        self, key: str, items: Sequence[T], render: Callable[[T], dict[str, object]]
    ) -> dict[str, object]:
        shown = items[self.offset : self.offset + self.limit]
        return {
            key: [render(item) for item in shown],
            "limit": self.limit,
            "offset": self.offset,
            "more": self.offset + len(shown) < len(items),
            "total": len(items) if self.total else None,
        }


def statuses(params: QueryParams, allowed: Sequence[str]) -> frozenset[str]:
    """`statuses[]`, repeatable; every status when none is given."""
    given = params.getlist("statuses[]")
    if any(status not in allowed for status in given):
        serial = "," if len(allowed) > 2 else ""  # PagerDuty's words for the three
        listed = ", ".join(allowed[:-1]) + f"{serial} or {allowed[-1]}"
        raise invalid_input(f"Status must be a list of {listed}.")
    return frozenset(given or allowed)


def created_within(params: QueryParams, now: datetime) -> tuple[datetime, datetime] | None:
    """The [since, until) an incident must be created in; None for `date_range=all`."""
    if params.get("date_range") == "all":
        return None
    until = _moment(params.get("until")) or now
    since = _moment(params.get("since")) or until - DEFAULT_SPAN
    if since > until or until - since > MAX_SPAN:
        raise InvalidQuery("Invalid Query Date Range", 2005)
    return since, until


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InvalidQuery(
            "Invalid time values in 'since' and/or 'until' parameters", 2004
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _natural(params: QueryParams, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise invalid_input(f"{name.capitalize()} must be a non-negative integer.")
    return int(raw)

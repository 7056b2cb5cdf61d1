"""Integrations → PagerDuty → Suppressions: maintenance windows, created and ended early.

    GET  /settings/integrations/pagerduty/suppressions?ended=1
    POST /settings/integrations/pagerduty/suppressions            create (connector, reason, and
                                                                  until or a length: 1 h, 4 h,
                                                                  until tomorrow 06:00 UTC)
    POST /settings/integrations/pagerduty/suppressions/{id}/end   end it now, recording who

Writes go through `suppressions.create` and `suppressions.end`, as the API's do, and wake the
scheduler so held-back triggers go out as soon as a window ends.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from rbtk.admin import connectors, suppressions
from rbtk.api.deps import Ctx
from rbtk.context import Context
from rbtk.runtime.errors import AdminError
from rbtk.runtime.timefmt import parse_rfc3339, tomorrow_at
from rbtk.web.auth import Csrf, SignedIn, operator
from rbtk.web.form_errors import form_errors
from rbtk.web.labels import say
from rbtk.web.pages.connectors import PREFIX as PAGERDUTY
from rbtk.web.render import form_text, page
from rbtk.web.session import flash

PREFIX = f"{PAGERDUTY}/suppressions"
ALL = "*"
# The lengths a maintenance window usually has, offered instead of typing an end time:
# value → label. "until tomorrow 06:00" is the next UTC day's, as the page shows times in UTC.
TOMORROW_AT = "06:00"
LENGTHS = {
    "1h": "1 hour",
    "4h": "4 hours",
    "tomorrow": f"Until tomorrow {TOMORROW_AT} UTC",
}
_HOURS = {"1h": 1, "4h": 4}

router = APIRouter(prefix=PREFIX, dependencies=[SignedIn], include_in_schema=False)


@router.get("")
def suppressions_page(request: Request, context: Ctx, ended: str | None = None) -> Response:
    return _page(request, context, show_ended=ended == "1")


@router.post("", dependencies=[Csrf])
async def create(request: Request, context: Ctx) -> Response:
    form = await request.form()
    values = {
        "connector": form_text(form, "connector"),
        "starts_at": form_text(form, "starts_at"),
        "ends_at": form_text(form, "ends_at"),
        "length": form_text(form, "length"),
        "reason": form_text(form, "reason"),
    }
    now = datetime.now(UTC)
    try:
        starts_at = _utc("starts_at", values["starts_at"]) if values["starts_at"] else None
        ends_at = _ends_at(values, starts_at or now)
        with context.engine.begin() as connection:
            windows = suppressions.create(
                connection,
                connector=None if values["connector"] == ALL else values["connector"] or None,
                all_connectors=values["connector"] == ALL,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=values["reason"],
                by=operator(request),
                now=now,
            )
    except AdminError as exc:
        errors = form_errors(exc, default="connector")
        return _page(request, context, values=values, errors=errors)
    context.wake_scheduler()
    names = ", ".join(w.connector for w in windows)
    state = "active" if windows[0].starts_at <= now else "scheduled"
    flash(
        request,
        "success",
        f"Suppression {state} for {names} until {windows[0].ends_at:%Y-%m-%d %H:%M} UTC: "
        "triggers are held back and logged as suppressed; resolves still go out.",
    )
    return RedirectResponse(PREFIX, 303)


@router.post("/{window_id}/end", dependencies=[Csrf])
def end(request: Request, window_id: int, context: Ctx) -> Response:
    try:
        with context.engine.begin() as connection:
            window = suppressions.end(
                connection, window_id, by=operator(request), now=datetime.now(UTC)
            )
    except (suppressions.UnknownWindow, suppressions.WindowEnded) as exc:
        flash(request, "error", say(exc))
        return RedirectResponse(PREFIX, 303)
    context.wake_scheduler()
    flash(
        request,
        "success",
        f"Suppression #{window.id} on {window.connector} ended: conditions still firing are "
        "triggered now.",
    )
    return RedirectResponse(PREFIX, 303)


def _ends_at(values: dict[str, str], start: datetime) -> datetime:
    """The end typed, or the length chosen counted from the start; one of them, not both."""
    length = values["length"]
    if length and values["ends_at"]:
        raise _refused("length", "Choose a length or type when it ends, not both.")
    if length == "tomorrow":
        return tomorrow_at(TOMORROW_AT, start)
    if length in _HOURS:
        return start + timedelta(hours=_HOURS[length])
    if length:
        raise _refused("length", f"Choose a length from the list, not {length!r}.")
    if not values["ends_at"]:
        raise _refused("ends_at", "Give the time the window ends, in UTC, or choose a length.")
    return _utc("ends_at", values["ends_at"])


def _utc(field: str, value: str) -> datetime:
    """A datetime-local value (the form says it is UTC), or a full RFC 3339 time."""
    text = value.strip()
    if len(text) in (16, 19) and "T" in text and not text.endswith(("Z", "z")):
        text += "Z"
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise _refused(field, say(exc)) from None


def _refused(field: str, message: str) -> suppressions.InvalidWindow:
    """What only the form asks (a length, or an end typed), refused as the service refuses."""
    return suppressions.InvalidWindow(message, field=field)


def _page(
    request: Request,
    context: Context,
    *,
    show_ended: bool = False,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    now = datetime.now(UTC)
    with context.reads.connect() as connection:
        windows = suppressions.list_windows(connection, include_ended=show_ended, now=now)
        names = [view.name for view in connectors.list_all(connection)]
    current = [w for w in windows if w.state(now) != "ended"]
    ended = sorted(
        (w for w in windows if w.state(now) == "ended"), key=lambda w: w.ends_at, reverse=True
    )
    return page(
        request,
        "suppressions.html",
        status_code=422 if errors else 200,
        title="Suppressions",
        now=now,
        windows=current,
        ended=ended,
        show_ended=show_ended,
        names=names,
        all_value=ALL,
        lengths=LENGTHS,
        values=values
        or {"connector": "", "starts_at": "", "ends_at": "", "length": "", "reason": ""},
        errors=errors or {},
    )

"""Rendering settings pages: the Jinja2 environment, its filters, and the headers every page
carries (no caching, no framing, scripts and styles only from rbtk itself)."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse

from rbtk.admin import connector_settings
from rbtk.context import Context
from rbtk.outbox.log import stuck
from rbtk.reconcile import reminders
from rbtk.web.session import SESSION_ID, csrf_token, pop_flashes

TEMPLATES = Path(__file__).with_name("templates")

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def when(moment: datetime | None) -> str:
    """A moment as operators read it in the pages: UTC, to the second."""
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def milliseconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


_SEPARATOR = re.compile(r"([:/.-])")


def breakable(text: str | None) -> Markup:
    """An identifier (a dedup key, an event id or type) that may wrap after its separators:
    a narrow column then breaks it between its parts, never inside one."""
    return Markup(_SEPARATOR.sub(r"\1<wbr>", str(escape(text or ""))))


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters.update(when=when, iso=iso, ms=milliseconds, breakable=breakable)
templates = Jinja2Templates(env=_environment)


def page(request: Request, name: str, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render a template with what every page needs: the session's CSRF token, its flash
    messages, whether someone is signed in and, if so, whether rbtk cannot page."""
    signed_in = isinstance(request.session.get(SESSION_ID), str)
    context = {
        "csrf_token": csrf_token(request),
        "flashes": pop_flashes(request),
        "signed_in": signed_in,
        "path": request.url.path,
        "stuck": _stuck(request) if signed_in else None,
        "overdue": _overdue(request) if signed_in else None,
        "rendered_at": datetime.now(UTC),  # "Updated …" on the pages that refresh themselves
        **values,
    }
    response = templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=HEADERS
    )
    assert isinstance(response, HTMLResponse)
    return response


@dataclass(frozen=True)
class StuckBanner:
    text: str
    link: str  # the delivery log, showing what is stuck


def _stuck(request: Request) -> StuckBanner | None:
    """What every page says while pages are stuck undelivered (one indexed read of what
    still waits: rbtk.outbox.log.undelivered)."""
    context: Context = request.app.state.context
    settings = context.settings
    with context.reads.connect() as connection:
        found = stuck.find(connection, settings=settings, now=datetime.now(UTC))
    if found is None:
        return None
    text = stuck.summary(found, stuck_after_s=settings.stuck_after_s)
    return StuckBanner(text, stuck.delivery_log_link(found))


def _overdue(request: Request) -> str | None:
    """What every page says while connectors are overdue for an end-to-end test."""
    context: Context = request.app.state.context
    found = reminders.overdue(context, now=datetime.now(UTC))
    return reminders.banner(found) if found else None


def fragment(request: Request, name: str, **values: Any) -> HTMLResponse:
    """Part of a page, for the scripts that refresh it in place (a whole page is answered
    otherwise, and they take their part of it)."""
    headers = {**HEADERS, "X-Rbtk-Fragment": "1"}
    response = templates.TemplateResponse(request, name, values, headers=headers)
    assert isinstance(response, HTMLResponse)
    return response


def form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_list(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


def settings_given(form: FormData) -> dict[str, Any]:
    """The connector settings a form holds (each marked by the `shown` macro), nested as the
    admin functions take them."""
    texts = {name: form_text(form, name) for name in form}
    return connector_settings.from_form(texts, set(form_list(form, "shown")))

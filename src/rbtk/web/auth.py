"""Signing in to the settings pages with an admin token, and CSRF protection for their forms.

The cookie is Starlette's signed cookie (itsdangerous; HttpOnly, SameSite=Lax). Who is
signed in is kept on the server (`rbtk.access.sessions`): the cookie holds only a random session
id, checked on every request with one read, so signing out or revoking the token ends the
session at once, copies of the cookie included. The cookie also carries a random CSRF
token (the sign-in form needs one before there is a session) that every POST must send
back, as the form field `csrf_token` or, from the pages' scripts, the `X-CSRF-Token` header.
"""

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rbtk.access import sessions, tokens
from rbtk.api.deps import Ctx
from rbtk.context import Context
from rbtk.runtime.secrets import load_or_create_keys
from rbtk.runtime.settings import Settings
from rbtk.web.render import form_text, page
from rbtk.web.session import SESSION_ID, csrf_token, flash

COOKIE = "rbtk_session"
SESSION_MAX_AGE_S = int(sessions.LIFETIME.total_seconds())
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SIGN_IN = "/settings/sign-in"
HOME = "/settings/integrations/pagerduty"

router = APIRouter(include_in_schema=False)


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__("sign in first")
        self.next_path = next_path


class CsrfRefused(Exception):
    pass


def session_secret(settings: Settings) -> str:
    """The cookie-signing key, derived from the key that encrypts secrets at rest: every
    instance sharing a database shares it, so a session works on any of them. While the
    secret key is rotated (RBTK_SECRET_KEY=NEW,OLD) it is derived from the first, the one
    every instance encrypts with: changing the first key signs everyone out once."""
    key = load_or_create_keys(settings.secret_key, settings.data_dir)[0]
    return hmac.new(key.encode(), b"rbtk settings session", hashlib.sha256).hexdigest()


async def check_csrf(request: Request) -> None:
    sent: object = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise CsrfRefused()


def require_session(request: Request, context: Ctx) -> None:
    name = _signed_in_as(request, context)
    if name is not None:
        request.state.operator = name
        return
    request.session.pop(SESSION_ID, None)
    query = f"?{request.url.query}" if request.url.query else ""
    raise SignInRequired(request.url.path + query if request.method == "GET" else HOME)


SignedIn = Depends(require_session)
Csrf = Depends(check_csrf)


def operator(request: Request) -> str:
    """Who is signed in, by the name of their token: recorded with what they change."""
    name = getattr(request.state, "operator", None)
    return name if isinstance(name, str) else "admin"


def _signed_in_as(request: Request, context: Context) -> str | None:
    """The name of the token the live session was signed in with; checked on every request."""
    session_id = request.session.get(SESSION_ID)
    if not isinstance(session_id, str):
        return None
    with context.reads.connect() as connection:
        return sessions.resume(connection, session_id, now=datetime.now(UTC))


def _safe_next(value: str | None) -> str:
    """Only a settings path of this site: never an open redirect."""
    if not value:
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/settings"):
        return HOME
    if parts.path.startswith((SIGN_IN, "/settings/sign-out", "/settings/static")):
        return HOME
    return value


def install(app: FastAPI) -> None:
    async def _sign_in_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return RedirectResponse(f"{SIGN_IN}?next={quote(exc.next_path, safe='')}", 303)

    async def _csrf_refused(request: Request, exc: Exception) -> Response:
        return page(
            request,
            "refused.html",
            status_code=403,
            title="Form refused",
            reason="This form was not sent from rbtk's settings pages in this session "
            "(its security token is missing or out of date), so nothing was changed. "
            "Go back, reload the page and send the form again.",
        )

    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)


@router.get(SIGN_IN, response_class=HTMLResponse)
def sign_in_form(request: Request, context: Ctx, next: str | None = None) -> Response:
    if _signed_in_as(request, context) is not None:
        return RedirectResponse(_safe_next(next), 303)
    return page(request, "sign_in.html", title="Sign in", next=_safe_next(next))


@router.post(SIGN_IN, dependencies=[Csrf])
async def sign_in(request: Request, context: Ctx) -> Response:
    form = await request.form()
    token = form_text(form, "token").strip()
    next_path = _safe_next(form_text(form, "next"))
    session_id = None
    with context.engine.begin() as connection:
        caller = tokens.authenticate(connection, token) if token else None
        if caller is not None and caller.scope is tokens.Scope.ADMIN:
            session_id = sessions.start(connection, token=token, now=datetime.now(UTC))
    scope = caller.scope if caller else None
    if session_id is not None:
        # A fresh session (and CSRF token) on sign-in: a session planted before cannot ride it.
        request.session.clear()
        request.session[SESSION_ID] = session_id
        csrf_token(request)
        return RedirectResponse(next_path, 303)
    if not token:
        error = "Enter an admin token."
    elif scope is tokens.Scope.EVENTS:
        error = (
            "This token may only post events. Sign in with an admin token "
            "(create one with: rbtk tokens create --scope admin)."
        )
    else:
        error = (
            "This token is not valid or was revoked. Sign in with an admin token "
            "(create one with: rbtk tokens create --scope admin)."
        )
    return page(
        request, "sign_in.html", status_code=401, title="Sign in", next=next_path, error=error
    )


@router.post("/settings/sign-out", dependencies=[Csrf])
def sign_out(request: Request, context: Ctx) -> Response:
    """Ends the session on the server: a copy of the cookie no longer signs anyone in."""
    session_id = request.session.get(SESSION_ID)
    if isinstance(session_id, str):
        with context.engine.begin() as connection:
            sessions.end(connection, session_id)
    request.session.clear()
    flash(request, "success", "You are signed out.")
    return RedirectResponse(SIGN_IN, 303)

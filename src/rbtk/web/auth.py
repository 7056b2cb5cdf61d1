"""Signing in to the settings pages with an admin token, and CSRF protection for their forms.

The session is Starlette's signed cookie (itsdangerous; HttpOnly, SameSite=Lax). It holds
the hash of the admin token signed in with, never the token, and is checked against the
token table on every request, so revoking the token closes its sessions at once. Each
session has a random CSRF token that every POST must send back, as the form field
`csrf_token` or, from the pages' scripts, the `X-CSRF-Token` header.
"""

import hashlib
import hmac
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rbtk import tokens
from rbtk.api.deps import Ctx
from rbtk.context import Context
from rbtk.secrets import load_or_create_key
from rbtk.settings import Settings
from rbtk.web.render import form_text, page
from rbtk.web.session import csrf_token, flash

COOKIE = "rbtk_session"
SESSION_MAX_AGE_S = 12 * 3600
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
    instance sharing a database shares it, so a session works on any of them."""
    key = load_or_create_key(settings.secret_key, settings.data_dir)
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
    token_hash = request.session.get("token")
    if isinstance(token_hash, str) and _is_admin(context, token_hash):
        return
    if token_hash is not None:
        request.session.pop("token")
    query = f"?{request.url.query}" if request.url.query else ""
    raise SignInRequired(request.url.path + query if request.method == "GET" else HOME)


SignedIn = Depends(require_session)
Csrf = Depends(check_csrf)


def operator(request: Request) -> str:
    """Who is signed in, by the name of their token: recorded with what they change."""
    name = request.session.get("name")
    return name if isinstance(name, str) else "admin"


def _is_admin(context: Context, token_digest: str) -> bool:
    """Checked on every request, so revoking the token closes its sessions at once."""
    with context.engine.connect() as connection:
        caller = tokens.caller_of(connection, token_digest)
    return caller is not None and caller.scope is tokens.Scope.ADMIN


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
    token_hash = request.session.get("token")
    if isinstance(token_hash, str) and _is_admin(context, token_hash):
        return RedirectResponse(_safe_next(next), 303)
    return page(request, "sign_in.html", title="Sign in", next=_safe_next(next))


@router.post(SIGN_IN, dependencies=[Csrf])
async def sign_in(request: Request, context: Ctx) -> Response:
    form = await request.form()
    token = form_text(form, "token").strip()
    next_path = _safe_next(form_text(form, "next"))
    with context.engine.connect() as connection:
        caller = tokens.authenticate(connection, token) if token else None
    scope = caller.scope if caller else None
    if caller is not None and scope is tokens.Scope.ADMIN:
        # A fresh session (and CSRF token) on sign-in: a session planted before cannot ride it.
        request.session.clear()
        request.session["token"] = tokens.digest(token)
        request.session["name"] = caller.name
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
def sign_out(request: Request) -> Response:
    request.session.clear()
    flash(request, "success", "You are signed out.")
    return RedirectResponse(SIGN_IN, 303)

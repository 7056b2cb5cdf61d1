"""What a settings session's cookie carries besides the session id: its CSRF token and flash
messages."""

import secrets
from typing import Literal

from starlette.requests import Request

Kind = Literal["success", "warning", "error"]
SESSION_ID = "sid"  # the cookie's key for the server-side session id (rbtk.access.sessions)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def flash(request: Request, kind: Kind, text: str) -> None:
    """A message for the next page shown (after a redirect): what a form did."""
    request.session["flashes"] = [*request.session.get("flashes", []), [kind, text]]


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    if "flashes" not in request.session:
        return []
    return [(str(kind), str(text)) for kind, text in request.session.pop("flashes")]

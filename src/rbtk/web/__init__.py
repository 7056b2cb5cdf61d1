"""Settings pages: server-rendered HTML for operators, signed in with an admin token.

Every page writes through the same service functions as the HTTP API (`rbtk.admin.connectors`,
`rbtk.admin.routing`, `rbtk.admin.suppressions`, `rbtk.admin.chat_channels`), as the name of the
token signed in with, which the audit log records (`rbtk.admin.audit`); nothing here talks
to the API.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from rbtk.context import Context
from rbtk.web import auth
from rbtk.web.pages import (
    audit,
    chat_channels,
    connectors,
    deliveries,
    events,
    home,
    incidents,
    reconcile,
    routing,
    storms,
    suppressions,
)

STATIC = Path(__file__).with_name("static")


def mount(app: FastAPI, context: Context) -> None:
    """Add the settings pages, their static files and the signed session cookie to `app`."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=auth.session_secret(context.settings),
        session_cookie=auth.COOKIE,
        max_age=auth.SESSION_MAX_AGE_S,
        same_site="lax",
        # rbtk serves plain HTTP (TLS, when there is any, ends in front of it), so the cookie
        # cannot insist on HTTPS; it is signed, HttpOnly and SameSite=Lax.
        https_only=False,
    )
    app.mount("/settings/static", StaticFiles(directory=STATIC), name="static")

    # Browsers ask for it on what links no icon: the API's JSON, /healthz, /metrics.
    @app.get("/favicon.ico", include_in_schema=False)
    def _favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon")

    auth.install(app)
    pages = (auth, home, connectors, incidents, events, deliveries, routing, suppressions, storms)
    for page in (*pages, reconcile, chat_channels, audit):
        app.include_router(page.router)
    app.include_router(home.fallback)

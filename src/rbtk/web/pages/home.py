"""Settings → Integrations: where the settings pages start."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from rbtk.admin import connectors
from rbtk.api.deps import Ctx
from rbtk.web.auth import HOME, SignedIn
from rbtk.web.render import page

router = APIRouter(prefix="/settings", dependencies=[SignedIn], include_in_schema=False)


@router.get("")
def settings_root() -> Response:
    return RedirectResponse(HOME, 303)


@router.get("/integrations")
def integrations(request: Request, context: Ctx) -> Response:
    with context.reads.connect() as connection:
        count = len(connectors.list_all(connection))
    return page(request, "integrations.html", title="Integrations", connector_count=count)


# Included after every other settings router: an unknown settings URL is still closed to
# strangers, and a signed-in operator gets a page rather than JSON.
fallback = APIRouter(prefix="/settings", dependencies=[SignedIn], include_in_schema=False)


@fallback.get("/{rest:path}")
def not_found(request: Request, rest: str) -> Response:
    return page(
        request,
        "not_found.html",
        status_code=404,
        title="Page not found",
        message=f"There is no settings page at /settings/{rest}.",
    )

"""The FastAPI application: API routers, plus (unless `workers=False`) the delivery worker
and scheduler on the same event loop."""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rbtk import __version__, web
from rbtk.api import (
    audit,
    chat_channels,
    config,
    connectors,
    deliveries,
    events,
    incidents,
    operations,
    pagerduty_webhooks,
    reconcile,
    routing,
    runbooks,
    storms,
    suppressions,
    webhook_subscriptions,
)
from rbtk.api.errors import ApiError, body
from rbtk.api.schema import no_nul_in_parameters, state_in_document
from rbtk.context import Context
from rbtk.delivery import loops
from rbtk.intake.writer import Writer
from rbtk.runtime.errors import AdminError, Conflict, NotFound
from rbtk.store.storage import storage_problem

log = logging.getLogger(__name__)

EVENTS = "/api/v1/events"
RETRY_AFTER_S = 30


def create_app(context: Context, *, workers: bool = True) -> FastAPI:
    writer = Writer(context)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if not workers:
                yield
                return
            async with loops.running(context):
                yield
        finally:
            # Requests are answered by now: store anything still waiting before exiting.
            await asyncio.to_thread(writer.close)

    app = FastAPI(
        title="rbtk",
        version=__version__,
        lifespan=lifespan,
        dependencies=[Depends(no_nul_in_parameters)],
        # Swagger UI and ReDoc load their scripts from a CDN: a blank page on an air-gapped
        # site. The API is described at /openapi.json, and the README shows every route.
        docs_url=None,
        redoc_url=None,
    )

    state_in_document(app)

    @app.get("/", include_in_schema=False)
    async def _start() -> RedirectResponse:
        return RedirectResponse("/settings", 307)

    app.state.context = context
    app.state.writer = writer
    app.include_router(events.router)
    app.include_router(connectors.router)
    app.include_router(deliveries.router)
    app.include_router(operations.router)
    app.include_router(routing.router)
    app.include_router(suppressions.router)
    app.include_router(storms.router)
    app.include_router(incidents.router)
    app.include_router(chat_channels.router)
    app.include_router(reconcile.router)
    app.include_router(pagerduty_webhooks.router)
    app.include_router(webhook_subscriptions.router)
    app.include_router(config.router)
    app.include_router(runbooks.router)
    app.include_router(audit.router)
    web.mount(app, context)

    @app.exception_handler(AdminError)
    async def _refused(_request: Request, exc: AdminError) -> JSONResponse:
        # The write path's one error root, mapped to HTTP here and nowhere else.
        if isinstance(exc, NotFound):
            return JSONResponse(body(str(exc), None), status_code=404)
        if isinstance(exc, Conflict):
            return JSONResponse(body(str(exc), None), status_code=409)
        return JSONResponse(body(str(exc), exc.errors), status_code=422)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(body(str(exc.detail), exc.errors), status_code=exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; list every method.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return JSONResponse(body(str(exc.detail), None), exc.status_code, headers=headers)

    @app.exception_handler(OperationalError)
    async def _store_failed(request: Request, exc: OperationalError) -> JSONResponse:
        problem = storage_problem(exc)
        if problem is None:
            raise exc
        # The transaction rolled back: say so, so the sender retries instead of dropping.
        what = "its events were not stored" if request.url.path == EVENTS else "nothing changed"
        log.warning("%s %s refused: %s", request.method, request.url.path, problem)
        return JSONResponse(
            body(f"{problem}: {what}; retry later", None),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: "
            + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        ]
        return JSONResponse(body("; ".join(errors), errors), status_code=422)

    return app


def _allowed_methods(request: Request) -> list[str]:
    path = request.scope["path"]
    methods: set[str] = set()
    for route in _flat(request.app.router.routes):
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            methods |= set(route_methods)
    return sorted(methods)


def _flat(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route, inside included routers too (our routers carry their own prefixes)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes)
        else:
            yield route

"""Dependencies shared by the API routers, as Annotated aliases."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rbtk.access import tokens
from rbtk.context import Context

_bearer = HTTPBearer(auto_error=False)


# Every dependency here is async: a sync one costs a hop to the thread pool per request.


async def get_context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


Ctx = Annotated[Context, Depends(get_context)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def current_caller(context: Ctx, credentials: Credentials) -> tokens.Caller:
    """The token's owner; FastAPI runs this once per request however many depend on it."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token: send 'Authorization: Bearer <token>' "
            "(create one with 'rbtk tokens create')",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = credentials.credentials
    caller = context.callers.known(token) or await run_in_threadpool(
        context.callers.authenticate, context.reads, token
    )
    if caller is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return caller


Caller = Annotated[tokens.Caller, Depends(current_caller)]


async def require_admin(caller: Caller) -> None:
    if caller.scope is not tokens.Scope.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this token may only post events")


async def require_events(caller: Caller) -> None:
    """Any valid token may post events: admin tokens too."""


async def caller_name(caller: Caller) -> str:
    """The name of the token making the request, to record who changed something."""
    return caller.name


Admin = Depends(require_admin)
EventsWriter = Depends(require_events)
CallerName = Annotated[str, Depends(caller_name)]

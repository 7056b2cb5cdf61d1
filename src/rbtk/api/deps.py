"""Dependencies shared by the API routers, as Annotated aliases."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rbtk import tokens
from rbtk.context import Context

_bearer = HTTPBearer(auto_error=False)


def get_context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


Ctx = Annotated[Context, Depends(get_context)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _scope_of(context: Context, credentials: HTTPAuthorizationCredentials | None) -> tokens.Scope:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token: send 'Authorization: Bearer <token>' "
            "(create one with 'rbtk tokens create')",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with context.engine.connect() as connection:
        scope = tokens.authenticate(connection, credentials.credentials)
    if scope is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return scope


def require_admin(context: Ctx, credentials: Credentials) -> None:
    if _scope_of(context, credentials) is not tokens.Scope.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this token may only post events")


def require_events(context: Ctx, credentials: Credentials) -> None:
    _scope_of(context, credentials)  # admin tokens may post events too


def caller_name(context: Ctx, credentials: Credentials) -> str:
    """The name of the token making the request, to record who changed something."""
    _scope_of(context, credentials)
    assert credentials is not None  # _scope_of refused a request without one
    with context.engine.connect() as connection:
        name = tokens.name_of(connection, credentials.credentials)
    if name is None:  # revoked between the two reads
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return name


Admin = Depends(require_admin)
EventsWriter = Depends(require_events)
CallerName = Annotated[str, Depends(caller_name)]

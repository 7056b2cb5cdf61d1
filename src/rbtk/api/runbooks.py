"""Runbook URLs per paging rule: /api/v1/runbooks (admin tokens only).

    GET    /api/v1/runbooks          200 {"runbooks": [{"rule", "url"}]}: every rule, url null
                                     where it has none
    PUT    /api/v1/runbooks/{rule}   {"url"} 200 {"rule", "url"}; 422 not an http(s) URL of at
                                     most 2,048 characters, or not a rule
    DELETE /api/v1/runbooks/{rule}   204; 404 it has none

A rule's runbook is added to the links of every incident it opens ("Runbook: pool_offline").
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from rbtk.admin import runbooks
from rbtk.api.deps import Admin, CallerName, Ctx
from rbtk.api.schema import Body, declared, errors
from rbtk.policy.rules import Rule

router = APIRouter(
    prefix="/api/v1",
    tags=["runbooks"],
    dependencies=[Admin],
    responses=errors(400, 401, 403, 422),
)


class RunbookIn(Body):
    url: Annotated[
        str,
        declared(
            minLength=1,
            maxLength=runbooks.MAX_URL,
            pattern=runbooks.URL_PATTERN,
            description="an http(s) address",
        ),
    ]


class RunbookOut(BaseModel):
    rule: Rule
    url: str | None = Field(description="null: the rule has no runbook")


class RunbooksOut(BaseModel):
    runbooks: list[RunbookOut]


@router.get("/runbooks", response_model=RunbooksOut)
def list_runbooks(context: Ctx) -> dict[str, Any]:
    with context.reads.connect() as connection:
        urls = runbooks.get_all(connection)
    return {"runbooks": [{"rule": rule.value, "url": urls.get(rule)} for rule in Rule]}


@router.put("/runbooks/{rule}", response_model=RunbookOut)
def set_runbook(rule: Rule, request: RunbookIn, context: Ctx, caller: CallerName) -> dict[str, Any]:
    with context.engine.begin() as connection:
        url = runbooks.set_url(
            connection, rule=rule.value, url=request.url, by=caller, now=datetime.now(UTC)
        )
    return {"rule": rule.value, "url": url}


@router.delete("/runbooks/{rule}", status_code=204, responses=errors(404))
def unset_runbook(rule: Rule, context: Ctx, caller: CallerName) -> Response:
    with context.engine.begin() as connection:
        runbooks.unset(connection, rule=rule.value, by=caller, now=datetime.now(UTC))
    return Response(status_code=204)

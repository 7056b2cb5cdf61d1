"""Reconcile: /api/v1/pagerduty/connectors/{name}/reconcile (admin tokens only).

    POST /connectors/{name}/reconcile          {"dry_run"}: run a pass now; 200 Summary;
                                               502 {"detail", "summary"} when PagerDuty's REST
                                               API could not be read (a wrong key: 401/403);
                                               422 no REST API key or service id; 404
    GET  /connectors/{name}/reconcile          200 {"runs": [Summary]}, newest first
    POST /connectors/{name}/reconcile/resolve  {"dedup_key"}: resolve an incident the latest
                                               pass listed as unknown; 200 {"delivery_id"}; 404
    GET  /connectors/{name}/check              200 Health: PagerDuty service health, each
                                               check ok, warn or fail (rbtk.reconcile.checks)

A pass compares the service's open incidents with rbtk's lanes (rbtk.reconcile): found is
what disagreed, fixed what rbtk sent (a resolve again, a page again), left what is the
operator's (lanes resolved by hand in PagerDuty, incidents rbtk has no record of).
"""

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool

from rbtk.admin import connectors
from rbtk.api.deps import Admin, Ctx
from rbtk.api.errors import body
from rbtk.api.schema import Body, Error, errors
from rbtk.reconcile import checks, passes
from rbtk.reconcile.summary import latest

router = APIRouter(
    prefix="/api/v1/pagerduty",
    tags=["reconcile"],
    dependencies=[Admin],
    responses=errors(400, 401, 403, 422),
)


class UnknownOut(BaseModel):
    id: str
    number: int | None
    dedup_key: str
    title: str
    url: str | None
    resolve_queued: bool


class SummaryOut(BaseModel):
    id: int
    connector: str
    started_at: str
    finished_at: str
    dry_run: bool
    found: int = Field(description="where rbtk and PagerDuty disagreed")
    fixed: int = Field(description="sent again: resolves, and pages when opted in")
    left: int = Field(description="for the operator: resolved by hand, unknown")
    error: str | None = Field(description="why PagerDuty could not be read")
    checked: int = Field(description="open rbtk incidents PagerDuty listed")
    resent: list[str]
    repaged: list[str]
    by_hand: list[str]
    unknown: list[UnknownOut]


class RunsOut(BaseModel):
    runs: list[SummaryOut]


class ReconcileRequest(Body):
    dry_run: StrictBool = Field(default=False, description="find, but send and mark nothing")


class ResolveUnknownRequest(Body):
    dedup_key: str = Field(min_length=1, max_length=255)


class ResolveUnknownOut(BaseModel):
    delivery_id: int


class CheckOut(BaseModel):
    name: str
    level: Literal["ok", "warn", "fail"]
    message: str


class HealthOut(BaseModel):
    connector: str
    service: str | None = Field(description="the PagerDuty service's name, once read")
    level: Literal["ok", "warn", "fail"] = Field(description="the worst of its checks")
    checks: list[CheckOut]
    urgency: dict[str, str] | None = Field(
        description="the urgency the service gives each severity; null when not read"
    )


class ReconcileFailed(Error):
    summary: SummaryOut


@router.post(
    "/connectors/{name}/reconcile",
    response_model=SummaryOut,
    responses={
        **errors(404),
        502: {"model": ReconcileFailed, "description": "PagerDuty's REST API could not be read"},
    },
)
async def reconcile_connector(
    name: str, context: Ctx, request: ReconcileRequest | None = None
) -> JSONResponse:
    dry_run = request.dry_run if request else False
    summary = await run_in_threadpool(passes.reconcile, context, connector=name, dry_run=dry_run)
    if summary.error is not None:
        return JSONResponse({**body(summary.error, None), "summary": summary.to_json()}, 502)
    return JSONResponse(summary.to_json())


@router.get("/connectors/{name}/reconcile", response_model=RunsOut, responses=errors(404))
def list_runs(name: str, context: Ctx, limit: int = 10) -> dict[str, Any]:
    with context.reads.connect() as connection:
        connectors.get(connection, name=name)  # 404 for no such connector
        runs = latest(connection, name, limit=max(1, min(limit, 100)))
    return {"runs": [run.to_json() for run in runs]}


@router.post(
    "/connectors/{name}/reconcile/resolve",
    response_model=ResolveUnknownOut,
    responses=errors(404),
)
def resolve_unknown(name: str, request: ResolveUnknownRequest, context: Ctx) -> dict[str, Any]:
    delivery_id = passes.resolve_unknown(context, connector=name, dedup_key=request.dedup_key)
    return {"delivery_id": delivery_id}


@router.get("/connectors/{name}/check", response_model=HealthOut, responses=errors(404))
async def check_connector(name: str, context: Ctx) -> dict[str, Any]:
    health = await run_in_threadpool(checks.check, context, connector=name, now=datetime.now(UTC))
    return health.to_json()

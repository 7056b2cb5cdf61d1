"""Operations: /healthz (the process answers), /readyz (it can deliver), /metrics."""

from typing import Any, Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rbtk import metrics, secret_keys
from rbtk.api.deps import Ctx, EventsWriter
from rbtk.api.schema import errors
from rbtk.store import storage
from rbtk.store.db import schema_problem
from rbtk.store.storage import Check

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


class CheckOut(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, CheckOut]
    detail: str | None = Field(default=None, description="the failing checks, when unavailable")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A check fails: `detail` says which"}},
)
def readyz(context: Ctx) -> JSONResponse:
    """Ready when every named check passes: the database answers, its schema is at this
    rbtk's newest migration, it takes writes, its disk has room, the secret key
    decrypts the secrets stored in it, and (under `rbtk serve`) the delivery process runs.
    A 503 names each failing check in `detail`."""
    engine = context.engine
    checks: dict[str, Check] = {}
    try:
        schema = schema_problem(engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        reason = f"database unreachable: {type(exc).__name__}: {_first_line(exc)}"
        checks["database"] = Check(False, reason)
    else:
        checks["database"] = Check(True, "answers")
        checks["schema"] = Check(schema is None, schema or "at the newest migration")
        checks["database_writable"] = storage.writable(engine)
        # Checked at start too; here because another instance can rotate the stored secrets
        # to a key this one was not given.
        with context.reads.connect() as connection:
            key_problem = secret_keys.problem(connection, context.vault)
        checks["secret_key"] = Check(
            key_problem is None, key_problem or "decrypts the stored secrets"
        )
    checks["disk"] = disk = storage.disk(engine)
    if not disk.ok and checks.get("database_writable", disk).ok:
        # One verdict: the probe's write can fit in a page freed earlier while no real batch
        # can; a full disk under the database means it does not take writes.
        checks["database_writable"] = Check(
            False, "database is not writable: the disk under it is full (see disk)"
        )
    if context.delivery_process is not None:
        checks["delivery"] = (
            Check(True, "the delivery process is running")
            if context.delivery_process()
            else Check(False, "the delivery process is not running; rbtk serve restarts it")
        )
    answer: dict[str, Any] = {
        "status": "ready",
        "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()},
    }
    failing = [c.detail for c in checks.values() if not c.ok]
    if failing:
        answer.update(status="unavailable", detail="; ".join(failing))
        return JSONResponse(answer, status_code=503)
    return JSONResponse(answer)


# Any valid token may scrape: the figures hold no secrets and monitoring needs no admin rights.
@router.get(
    "/metrics",
    dependencies=[EventsWriter],
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {metrics.CONTENT_TYPE: {"schema": {"type": "string"}}},
        },
        **errors(401, 403),
    },
)
def metrics_text(context: Ctx) -> Response:
    text = metrics.render(context.reads, delivery=context.delivery_metrics)
    return Response(text, media_type=metrics.CONTENT_TYPE)


def _first_line(exc: BaseException) -> str:
    # Driver messages can run to many lines (SQL, parameters); the first says what failed.
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [""])[0][:300]

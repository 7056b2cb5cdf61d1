"""Operations: /healthz (the process answers), /readyz (it can deliver), /metrics."""

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from rbtk.api.deps import Ctx, EventsWriter
from rbtk.runtime import metrics, secret_keys
from rbtk.store.db import is_current

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(context: Ctx) -> JSONResponse:
    """Ready when the database answers, its schema is at this rbtk's newest migration and
    the secret key decrypts the secrets stored in it."""
    try:
        current = is_current(context.engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        reason = f"database unreachable: {type(exc).__name__}: {_first_line(exc)}"
        return JSONResponse({"status": "unavailable", "detail": reason}, status_code=503)
    if not current:
        reason = "database schema is not at the newest migration; restart rbtk to migrate it"
        return JSONResponse({"status": "unavailable", "detail": reason}, status_code=503)
    # Checked at start too; here because another instance can rotate the stored secrets to
    # a key this one was not given.
    with context.engine.connect() as connection:
        key_problem = secret_keys.problem(connection, context.vault)
    if key_problem is not None:
        return JSONResponse({"status": "unavailable", "detail": key_problem}, status_code=503)
    return JSONResponse({"status": "ready"})


# Any valid token may scrape: the figures hold no secrets and monitoring needs no admin rights.
@router.get("/metrics", dependencies=[EventsWriter])
def metrics_text(context: Ctx) -> Response:
    return Response(metrics.render(context.engine), media_type=metrics.CONTENT_TYPE)


def _first_line(exc: BaseException) -> str:
    # Driver messages can run to many lines (SQL, parameters); the first says what failed.
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [""])[0][:300]

"""PagerDuty's webhook deliveries: POST /api/v1/pagerduty/webhooks/{connector}.

No bearer token: PagerDuty cannot send one. A delivery is authenticated by its
`X-PagerDuty-Signature` against the connector's webhook secrets (rbtk.reconcile.webhook_inbox).

    202 {"status": "accepted"}   stored; applied right after the answer
    200 {"status": "repeated"}   its X-Webhook-Id was received before: nothing new stored
    401                          signature missing or matching no secret of the connector
                                 (also for a connector without webhooks, or none at all)
    413                          a body over 1 MB

Any event type is accepted once authentic, those rbtk does not use too: PagerDuty disables
a subscription whose deliveries it keeps refusing.
"""

from datetime import UTC, datetime

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from rbtk.api.deps import Ctx
from rbtk.api.errors import ApiError
from rbtk.api.schema import errors
from rbtk.context import Context
from rbtk.reconcile import webhook_apply, webhook_inbox
from rbtk.reconcile.webhook_inbox import MAX_BODY, NotAuthentic, Received

router = APIRouter(prefix="/api/v1/pagerduty", tags=["webhooks"])


@router.post(
    "/webhooks/{connector}",
    status_code=202,
    responses={200: {"description": "received before: nothing new stored"}, **errors(401, 413)},
)
async def receive(
    connector: str, request: Request, context: Ctx, background: BackgroundTasks
) -> JSONResponse:
    body = await _bounded_body(request)
    try:
        received = await run_in_threadpool(
            _store,
            context,
            connector=connector,
            body=body,
            signature=request.headers.get("x-pagerduty-signature"),
            webhook_id=request.headers.get("x-webhook-id"),
        )
    except NotAuthentic as refused:
        raise ApiError(401, str(refused)) from None
    if received.repeated:
        return JSONResponse({"status": "repeated"}, status_code=200)
    background.add_task(run_in_threadpool, _apply, context)
    return JSONResponse({"status": "accepted"}, status_code=202, background=background)


def _store(
    context: Context, *, connector: str, body: bytes, signature: str | None, webhook_id: str | None
) -> Received:
    with context.engine.begin() as connection:
        return webhook_inbox.receive(
            connection,
            context.vault,
            connector=connector,
            body=body,
            signature=signature,
            webhook_id=webhook_id,
            now=datetime.now(UTC),
        )


def _apply(context: Context) -> None:
    webhook_apply.apply_pending(context, now=datetime.now(UTC))


async def _bounded_body(request: Request) -> bytes:
    """The raw body (the signature is over its exact bytes), refused past MAX_BODY without
    reading the rest."""
    too_large = ApiError(413, f"a webhook delivery is at most {MAX_BODY} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)

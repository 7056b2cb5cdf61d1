"""A connector's PagerDuty webhook subscription: /api/v1/pagerduty/connectors/{name}/webhooks
(admin tokens only; rbtk.reconcile.webhook_subscriptions).

    POST   /connectors/{name}/webhooks        {"url"} (default RBTK_PUBLIC_URL's endpoint):
                                              subscribe; 201 Webhooks; 422 no REST API key
                                              or service id, or a URL PagerDuty may not use
    GET    /connectors/{name}/webhooks        200 Webhooks, as PagerDuty has it now (`error`
                                              when it could not be read); 404 not subscribed
    POST   /connectors/{name}/webhooks/enable 200 Webhooks: enabled again at PagerDuty after
                                              it disabled it (3 deliveries dropped in a row)
    POST   /connectors/{name}/webhooks/ping   200 {"arrived": true} once PagerDuty's ping
                                              arrived, signed; 504 {"arrived": false} when it
                                              did not within the wait
    DELETE /connectors/{name}/webhooks        204: deleted at PagerDuty, its secrets forgotten

502 when PagerDuty's REST API refused (a key that may not manage subscriptions) or did not
answer. The subscription's secret is never shown.
"""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rbtk.api.deps import Admin, CallerName, Ctx
from rbtk.api.errors import ApiError
from rbtk.api.schema import Body, errors
from rbtk.reconcile import webhook_subscriptions
from rbtk.reconcile.webhook_subscriptions import PagerDutyRefused, WebhookState

router = APIRouter(
    prefix="/api/v1/pagerduty",
    tags=["webhooks"],
    dependencies=[Admin],
    responses=errors(400, 401, 403, 404, 422, 502),
)

PING_WAIT_S = 10.0


class WebhooksIn(Body):
    url: str | None = Field(
        default=None,
        max_length=2048,
        pattern="^[Hh][Tt][Tt][Pp][Ss]?://[^\\x00]+$",
        description="where PagerDuty delivers: https, or http to a loopback address; default "
        "RBTK_PUBLIC_URL's webhook endpoint",
    )


class WebhooksOut(BaseModel):
    connector: str
    subscription_id: str
    url: str
    created_at: str
    active: bool | None = Field(description="at PagerDuty; null when it could not be read")
    temporarily_disabled: bool | None = Field(
        description="PagerDuty stopped delivering after 3 dropped in a row"
    )
    last_delivery_at: str | None = Field(description="the newest delivery rbtk received")
    last_event_type: str | None
    error: str | None = Field(description="why PagerDuty could not be read")


class PingOut(BaseModel):
    arrived: bool


@router.post("/connectors/{name}/webhooks", status_code=201, response_model=WebhooksOut)
async def enable(
    name: str, context: Ctx, caller: CallerName, request: WebhooksIn | None = None
) -> dict[str, Any]:
    url = request.url if request else None
    state: WebhookState = await _calling(
        webhook_subscriptions.enable, context, connector=name, url=url, by=caller,
        now=datetime.now(UTC),
    )  # fmt: skip
    return state.to_json()


@router.get("/connectors/{name}/webhooks", response_model=WebhooksOut)
async def show(name: str, context: Ctx) -> dict[str, Any]:
    state = await run_in_threadpool(webhook_subscriptions.show, context, connector=name)
    return state.to_json()


@router.post("/connectors/{name}/webhooks/enable", response_model=WebhooksOut)
async def re_enable(name: str, context: Ctx) -> dict[str, Any]:
    state: WebhookState = await _calling(webhook_subscriptions.re_enable, context, connector=name)
    return state.to_json()


@router.post(
    "/connectors/{name}/webhooks/ping",
    response_model=PingOut,
    responses={504: {"model": PingOut, "description": "the ping did not arrive in time"}},
)
async def ping(name: str, context: Ctx) -> JSONResponse:
    arrived = await _calling(
        webhook_subscriptions.ping, context, connector=name, wait_s=PING_WAIT_S
    )
    return JSONResponse({"arrived": arrived}, status_code=200 if arrived else 504)


@router.delete("/connectors/{name}/webhooks", status_code=204)
async def disable(name: str, context: Ctx, caller: CallerName) -> Response:
    await _calling(
        webhook_subscriptions.disable, context, connector=name, by=caller, now=datetime.now(UTC)
    )
    return Response(status_code=204)


async def _calling(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a call to PagerDuty off the event loop; its refusal is a 502."""
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except PagerDutyRefused as refused:
        raise ApiError(502, str(refused)) from None

"""The REST API's webhook subscription operations, over the emulator's `Webhooks`:

    POST   /webhook_subscriptions             {"webhook_subscription": {...}} -> 200 with it,
                                              its `delivery_method.secret` shown this once;
                                              400 a bad request (PagerDuty's error body)
    GET    /webhook_subscriptions             -> {"webhook_subscriptions": [...], "limit",
                                              "offset", "more", "total"}
    GET    /webhook_subscriptions/{id}        -> {"webhook_subscription": {...}}, secret null
    DELETE /webhook_subscriptions/{id}        -> 204; its waiting deliveries are dropped
    POST   /webhook_subscriptions/{id}/enable -> {"webhook_subscription"}: no longer
                                              temporarily disabled
    POST   /webhook_subscriptions/{id}/ping   -> 202; a `pagey.ping` event is delivered
    GET    /_inspect/webhooks                 -> {"deliveries": [...]}: every delivery, its
                                              attempts, their statuses and its outcome

Access, 404 and the record of each request are the REST API's (`rest_api.answer`).
"""

import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from rbtk.emulator.rest_api import NotFound, answer
from rbtk.emulator.rest_query import invalid_input
from rbtk.emulator.state import EmulatorState
from rbtk.emulator.webhooks import Subscription, subscription_request

PATH = "/webhook_subscriptions"


def webhooks_router(state: EmulatorState) -> APIRouter:
    router = APIRouter()

    def found(request: Request) -> Subscription:
        subscription = state.webhooks.get(request.path_params["id"])
        if subscription is None:
            raise NotFound
        return subscription

    @router.post(PATH)
    async def create(request: Request) -> Response:
        raw = await request.body()

        def handler(_request: Request, _api_url: str) -> dict[str, object]:
            try:
                wanted = subscription_request(json.loads(raw))
            except ValueError:
                wanted = "the body is not JSON"
            if isinstance(wanted, str):
                raise invalid_input(wanted)
            made = state.webhooks.subscribe(**wanted)
            return {"webhook_subscription": made.to_json(with_secret=True)}

        return answer(state, request, handler)

    @router.get(PATH)
    async def list_all(request: Request) -> Response:
        def handler(_request: Request, _api_url: str) -> dict[str, object]:
            listed = [s.to_json() for s in state.webhooks.all()]
            return {
                "webhook_subscriptions": listed,
                "limit": 100,
                "offset": 0,
                "more": False,
                "total": len(listed),
            }

        return answer(state, request, handler)

    @router.get(PATH + "/{id}")
    async def get_one(request: Request) -> Response:
        return answer(state, request, lambda r, _: {"webhook_subscription": found(r).to_json()})

    @router.delete(PATH + "/{id}")
    async def delete(request: Request) -> Response:
        def handler(r: Request, _api_url: str) -> None:
            if not state.webhooks.delete(found(r).id):
                raise NotFound

        return answer(state, request, handler, done=204)

    @router.post(PATH + "/{id}/enable")
    async def enable(request: Request) -> Response:
        def handler(r: Request, _api_url: str) -> dict[str, object]:
            enabled = state.webhooks.enable(found(r).id)
            if enabled is None:
                raise NotFound
            return {"webhook_subscription": enabled.to_json()}

        return answer(state, request, handler)

    @router.post(PATH + "/{id}/ping")
    async def ping(request: Request) -> Response:
        def handler(r: Request, _api_url: str) -> None:
            state.webhooks.ping(found(r).id)

        return answer(state, request, handler, done=202)

    @router.get("/_inspect/webhooks")
    async def inspect() -> JSONResponse:
        return JSONResponse({"deliveries": [d.to_json() for d in state.webhooks.attempted()]})

    return router

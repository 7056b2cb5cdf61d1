"""The REST API v2 subset rbtk's reconcile and service checks read, over the alerts the Events
API keeps:

    GET /incidents                  service_ids[], statuses[], incident_key, since, until,
                                    date_range=all, limit, offset, total (see rest_query.py);
                                    oldest first
        -> {"incidents": [...], "limit", "offset", "more", "total"}
    GET /incidents/{id or number}   -> {"incident": {...}}
    GET /incidents/{id}/alerts      statuses[] (triggered, resolved), alert_key, limit, offset,
                                    total -> {"alerts": [...], "limit", "offset", "more", "total"}
    GET /services/{id}              include[]=integrations -> {"service": {...}}

Every request passes rest_access.py first (401, 403, 429); an unknown incident or service is
404 {"error": {"message": "Not Found", "code": 2100}}, a bad parameter 400 with PagerDuty's
codes. Every request is recorded in `/_inspect/requests` with its method and query, its token
masked. The Accept header (`application/vnd.pagerduty+json;version=2`) is accepted, not needed.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from rbtk.emulator import rest_shapes
from rbtk.emulator.incidents import Filed
from rbtk.emulator.rest_access import rest_error, token_of
from rbtk.emulator.rest_query import (
    ALERT_STATUSES,
    INCIDENT_STATUSES,
    InvalidQuery,
    Page,
    created_within,
    statuses,
)
from rbtk.emulator.state import EmulatorState, RequestOutcome, RestCall

Handler = Callable[[Request, str], dict[str, object]]


class NotFound(LookupError):
    pass


def answer(
    state: EmulatorState,
    request: Request,
    handler: Callable[[Request, str], dict[str, object] | None],
    *,
    done: int = 200,
) -> Response:
    """The REST API's answer: access first (401, 403, 429), then the handler's body with
    `done` (no body when it gives None), 404 or 400; every request recorded."""
    token = token_of(request.headers.get("authorization"))
    verdict = state.decide_rest(token)
    body: dict[str, object] | None = verdict.body
    status = verdict.status
    outcome: RequestOutcome = verdict.refusal or "answered"
    if verdict.refusal is None:
        try:
            status, body = done, handler(request, str(request.base_url).rstrip("/"))
        except NotFound:
            status, body, outcome = 404, rest_error("Not Found", 2100), "not_found"
        except InvalidQuery as invalid:
            status, body, outcome = 400, invalid.body, "bad_request"
    call = RestCall.of(request.method, request.url.query, token)
    state.record_request(
        path=request.url.path, status=status, outcome=outcome, body=None, rest=call
    )
    if body is None:
        return Response(status_code=status, headers=verdict.headers)
    return JSONResponse(body, status_code=status, headers=verdict.headers)


def rest_router(state: EmulatorState) -> APIRouter:
    router = APIRouter()

    def serve(request: Request, handler: Handler) -> Response:
        return answer(state, request, handler)

    def list_incidents(request: Request, api_url: str) -> dict[str, object]:
        params = request.query_params
        page = Page.of(params)
        wanted = statuses(params, INCIDENT_STATUSES)
        window = created_within(params, datetime.now(UTC))
        service_ids = set(params.getlist("service_ids[]"))
        key = params.get("incident_key")
        found = [
            filed
            for filed in state.filed()
            if filed.alert.status in wanted
            and (not service_ids or filed.service.id in service_ids)
            and (key is None or filed.alert.dedup_key == key)
            and (window is None or window[0] <= filed.alert.created_at <= window[1])
        ]
        return page.answer("incidents", found, lambda filed: rest_shapes.incident(filed, api_url))

    def get_incident(request: Request, api_url: str) -> dict[str, object]:
        return {"incident": rest_shapes.incident(_incident(request), api_url)}

    def list_alerts(request: Request, api_url: str) -> dict[str, object]:
        params = request.query_params
        filed = _incident(request)
        page = Page.of(params)
        wanted = statuses(params, ALERT_STATUSES)
        key = params.get("alert_key")
        shown = (
            filed.incident.has_alert
            and rest_shapes.rest_alert_status(filed) in wanted
            and key in (None, filed.alert.dedup_key)
        )
        return page.answer(
            "alerts", [filed] if shown else [], lambda each: rest_shapes.alert(each, api_url)
        )

    def get_service(request: Request, api_url: str) -> dict[str, object]:
        service = state.service(request.path_params["id"])
        if service is None:
            raise NotFound
        filed = [each for each in state.filed() if each.service.id == service.id]
        keys = list(service.integration_keys)
        # The implicit service's integrations are the unclaimed keys it has been fed.
        keys += [
            k for k in dict.fromkeys(each.alert.routing_key for each in filed) if k not in keys
        ]
        full = "integrations" in request.query_params.getlist("include[]")
        return {
            "service": rest_shapes.service(
                service, filed, api_url, routing_keys=keys, full_integrations=full
            )
        }

    def _incident(request: Request) -> Filed:
        wanted = request.path_params["id"]
        for filed in state.filed():
            if wanted in (filed.incident.id, str(filed.incident.number)):
                return filed
        raise NotFound

    routes: dict[str, Handler] = {
        "/incidents": list_incidents,
        "/incidents/{id}": get_incident,
        "/incidents/{id}/alerts": list_alerts,
        "/services/{id}": get_service,
    }
    for path, handler in routes.items():
        router.add_api_route(path, _endpoint(serve, handler), methods=["GET"])
    return router


def _endpoint(
    serve: Callable[[Request, Handler], Response], handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    async def route(request: Request) -> Response:
        return serve(request, handler)

    return route

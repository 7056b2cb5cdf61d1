"""`/_control` and `/_inspect` routes for the services, incidents, maintenance and REST access
a test sets up around the REST API:

    GET  /_control/services         -> {"services": [...]}, by id, PDEFAULT always among them
    PUT  /_control/services/{id}    <- {"name", "integration_keys": [...], "alert_creation",
                                       "alert_grouping_parameters", "auto_resolve_timeout",
                                       "acknowledgement_timeout", "incident_urgency_rule"};
                                       creates or replaces -> the service; 409 when a key
                                       already feeds another service, 422 when invalid
    GET  /_control/rest             -> the RestSettings document (throttle_next counts down)
    PUT  /_control/rest             <- {"tokens", "read_only_tokens", "forbidden_tokens",
                                       "rate_limit", "throttle_next", "throttle_reset_s"}
    GET  /_control/maintenance      -> {"drop_resolves": bool}
    PUT  /_control/maintenance      <- {"drop_resolves": bool}: while true, Events API resolves
                                       are answered 202 but dropped (outcome "dropped")
    POST /_control/incidents/{id}/resolve
                                    -> {"incident": ...} resolved by hand (id or number);
                                       404 unknown, 409 resolved already
    POST /_control/incidents/{id}/acknowledge
                                    -> {"incident": ...} acknowledged by hand; 404 unknown,
                                       409 not triggered
                                    Both take {"agent": NAME}, optional: who did it, as
                                    webhook subscribers are told
    GET  /_inspect/incidents        -> {"incidents": [{"id", "incident_number", "alert_id",
                                       "service_id", "routing_key", "incident_key", "status",
                                       "urgency", "title", "created_at"}]}, oldest first
"""

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from rbtk.emulator.incidents import Filed
from rbtk.emulator.rest_access import RestSettings
from rbtk.emulator.services import KeyTaken, Service, ServiceSettings
from rbtk.emulator.state import BY_HAND, EmulatorState


class ByHand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    agent: str = Field(default=BY_HAND, min_length=1, max_length=255)


class Maintenance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    drop_resolves: StrictBool


def control_router(state: EmulatorState) -> APIRouter:
    router = APIRouter()

    @router.get("/_control/services")
    async def list_services() -> JSONResponse:
        return JSONResponse({"services": [service.to_json() for service in state.services()]})

    @router.put("/_control/services/{service_id}")
    async def put_service(service_id: str, settings: ServiceSettings) -> JSONResponse:
        try:
            service = state.put_service(Service(id=service_id, **settings.model_dump()))
        except KeyTaken as taken:
            return JSONResponse({"detail": str(taken)}, status_code=409)
        return JSONResponse(service.to_json())

    @router.get("/_control/rest")
    async def get_rest() -> JSONResponse:
        return JSONResponse(state.rest_settings().model_dump(mode="json"))

    @router.put("/_control/rest")
    async def put_rest(settings: RestSettings) -> JSONResponse:
        return JSONResponse(state.set_rest_settings(settings).model_dump(mode="json"))

    @router.get("/_control/maintenance")
    async def get_maintenance() -> JSONResponse:
        return JSONResponse({"drop_resolves": state.drop_resolves()})

    @router.put("/_control/maintenance")
    async def put_maintenance(maintenance: Maintenance) -> JSONResponse:
        state.set_drop_resolves(maintenance.drop_resolves)
        return JSONResponse(maintenance.model_dump())

    @router.post("/_control/incidents/{incident_id}/resolve")
    async def resolve_incident(incident_id: str, by: ByHand | None = None) -> JSONResponse:
        resolved = state.resolve_incident(incident_id, by=(by or ByHand()).agent)
        return _by_hand(incident_id, resolved, "is resolved already")

    @router.post("/_control/incidents/{incident_id}/acknowledge")
    async def acknowledge_incident(incident_id: str, by: ByHand | None = None) -> JSONResponse:
        acknowledged = state.acknowledge_incident(incident_id, by=(by or ByHand()).agent)
        return _by_hand(incident_id, acknowledged, "is not triggered")

    @router.get("/_inspect/incidents")
    async def inspect_incidents() -> JSONResponse:
        return JSONResponse({"incidents": [filed.to_json() for filed in state.filed()]})

    return router


def _by_hand(incident_id: str, done: Filed | Literal[False] | None, refused: str) -> JSONResponse:
    if done is None:
        return JSONResponse({"detail": f"no incident {incident_id}"}, status_code=404)
    if done is False:
        return JSONResponse({"detail": f"incident {incident_id} {refused}"}, status_code=409)
    return JSONResponse({"incident": done.to_json()})

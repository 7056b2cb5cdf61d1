"""The emulator's routes: the Events API and the Change Events API, the REST API subset
(`rest_api.py`), plus `/_inspect` and `/_control` for tests (the REST API's in
`control_api.py`)."""

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from rbtk.emulator.config import EmulatorConfig
from rbtk.emulator.control_api import control_router
from rbtk.emulator.events_api import handle_change, handle_enqueue
from rbtk.emulator.fault_middleware import CHANGE_PATHS, ENQUEUE_PATHS, FaultInjectingApp
from rbtk.emulator.faults import Faults
from rbtk.emulator.rest_api import rest_router
from rbtk.emulator.rest_webhooks import webhooks_router
from rbtk.emulator.state import AlertFilter, EmulatorState


def create_app(config: EmulatorConfig | None = None) -> FaultInjectingApp:
    """A fresh emulator; its state is `app.state`, for in-process inspection."""
    state = EmulatorState(config or EmulatorConfig())
    api = FastAPI(title="PagerDuty API emulator", docs_url=None, redoc_url=None)
    api.include_router(rest_router(state))
    api.include_router(webhooks_router(state))
    api.include_router(control_router(state))

    async def enqueue(request: Request) -> JSONResponse:
        answer = handle_enqueue(state, await request.body(), path=request.url.path)
        return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)

    async def change(request: Request) -> JSONResponse:
        answer = handle_change(state, await request.body(), path=request.url.path)
        return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)

    for path in sorted(ENQUEUE_PATHS):
        api.add_api_route(path, enqueue, methods=["POST"])
    for path in sorted(CHANGE_PATHS):
        api.add_api_route(path, change, methods=["POST"])

    @api.get("/_inspect/changes")
    async def inspect_changes() -> JSONResponse:
        return JSONResponse({"changes": [change.to_json() for change in state.changes()]})

    @api.get("/_inspect/events")
    async def inspect_events() -> JSONResponse:
        return JSONResponse({"events": [event.to_json() for event in state.events()]})

    @api.get("/_inspect/alerts")
    async def inspect_alerts(status: AlertFilter | None = None) -> JSONResponse:
        return JSONResponse({"alerts": [alert.to_json() for alert in state.alerts(status)]})

    @api.get("/_inspect/requests")
    async def inspect_requests() -> JSONResponse:
        return JSONResponse({"requests": [record.to_json() for record in state.requests()]})

    @api.get("/_control/faults")
    async def get_faults() -> JSONResponse:
        return JSONResponse(state.faults().model_dump())

    @api.put("/_control/faults")
    async def put_faults(faults: Faults) -> JSONResponse:
        return JSONResponse(state.set_faults(faults).model_dump())

    @api.post("/_control/reset", status_code=204)
    async def reset() -> Response:
        state.reset()
        return Response(status_code=204)

    return FaultInjectingApp(api, state)

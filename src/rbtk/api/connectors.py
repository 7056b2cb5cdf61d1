"""PagerDuty connectors: /api/v1/pagerduty/connectors[/{name}[/test]] (admin tokens only).

    GET    /connectors                 200 {"connectors": [Connector]}
    POST   /connectors                 201 Connector; 409 name taken; 422 bad name/key/toggle
    GET    /connectors/{name}          200 Connector; 404
    PATCH  /connectors/{name}          200 Connector; 404; 422
    DELETE /connectors/{name}?force=   204; 404; 409 while it has open incidents (unless force)
    POST   /connectors/{name}/test     200 ProbeOutcome once PagerDuty accepted the trigger;
                                       202 ProbeOutcome and "detail" at once while it is not
                                           answered yet (behind the rate budget, PagerDuty
                                           slow, unreachable or failing: rbtk retries it);
                                           follow GET /api/v1/pagerduty/deliveries/{id};
                                       502 PagerDuty refused it for good (4xx), with
                                           {"detail", "errors", "outcome": ProbeOutcome};
                                       {"severity"} picks its urgency (default info),
                                       {"resolve_after_s"} has rbtk resolve it later
    POST   /connectors/{name}/test/resolve   {"dedup_key"} resolves a test incident now:
                                       answers as /test; 404 for a key no test of it used

With a REST API key and service id, an accepted test event is looked for on the service:
`verification` says whether its incident opened there and at which urgency, and marks the
connector verified end to end (rbtk.reconcile.verify); null without them.

The clear integration key goes in, and never comes out: responses carry it masked.
`max_severity` caps what a connector is sent (null: no cap); in a PATCH, null removes it.
`storm` sets storm collapse: more than `threshold` new incidents within `window_s` seconds
page as one umbrella incident while `collapse` is on; a PATCH changes only what it gives.
`rest_key` and `service_id` are what reconcile reads PagerDuty with (rbtk.api.reconcile):
the key goes in and comes out masked; in a PATCH, null removes either.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, SecretStr, StrictFloat

from rbtk.admin import connector_settings, connectors
from rbtk.admin.connector_settings import ConnectorSettings
from rbtk.admin.connectors import KEEP, ConnectorView
from rbtk.admin.probes import ProbeOutcome, resolve_test_event, send_test_event
from rbtk.api.deliveries import WaitingOut
from rbtk.api.deps import Admin, CallerName, Ctx
from rbtk.api.errors import body
from rbtk.api.schema import (
    INTEGRATION_KEY,
    NO_NUL,
    REST_API_KEY,
    RULE_NAMES,
    SLUG_NAME,
    Body,
    Error,
    errors,
)
from rbtk.policy.severity import Severity
from rbtk.reconcile import verify
from rbtk.runtime.settings import Settings
from rbtk.runtime.timefmt import format_rfc3339

router = APIRouter(
    prefix="/api/v1/pagerduty",
    tags=["connectors"],
    dependencies=[Admin],
    responses=errors(400, 401, 403, 422),
)

MAX_RESOLVE_AFTER_S = 7 * 24 * 3600


REST_KEY = "a PagerDuty REST API key (read-only is enough), for reconcile; never shown again"


class ConnectorCreate(ConnectorSettings, Body):
    name: Annotated[str, SLUG_NAME]
    # SecretStr: a model repr or validation error never shows it
    integration_key: Annotated[SecretStr, INTEGRATION_KEY]
    enable: Annotated[list[str], RULE_NAMES] = Field(default_factory=list)
    disable: Annotated[list[str], RULE_NAMES] = Field(default_factory=list)
    rest_key: Annotated[SecretStr, REST_API_KEY] | None = Field(default=None, description=REST_KEY)


_Settings = connector_settings.partial(ConnectorSettings, "ConnectorSettingsChange")


class ConnectorChange(_Settings, Body):  # type: ignore[misc,valid-type]
    """What a PATCH changes: only what it gives. A null removes what may be none (the severity
    cap, the service id, the REST API key) and leaves a flag as it is."""

    integration_key: Annotated[SecretStr, INTEGRATION_KEY] | None = None
    enable: Annotated[list[str], RULE_NAMES] = Field(default_factory=list)
    disable: Annotated[list[str], RULE_NAMES] = Field(default_factory=list)
    rest_key: Annotated[SecretStr, REST_API_KEY] | None = Field(default=None, description=REST_KEY)


class LastDelivery(BaseModel):
    status: str
    at: str


class ConnectorOut(ConnectorSettings):
    name: str
    integration_key: str = Field(description="masked: only the last 4 characters show")
    endpoint: str
    rules: dict[str, bool] = Field(description="each paging rule, on or off")
    rest_key: str | None = Field(description="masked; null: reconcile is not set up")
    verified_at: str | None = Field(description="a test event last seen open on the service")
    verified_urgency: str | None
    open_incidents: int
    last_delivery: LastDelivery | None
    created_at: str
    updated_at: str


class ConnectorsOut(BaseModel):
    connectors: list[ConnectorOut]


class ResolveOut(BaseModel):
    delivery_id: int
    at: str


class ProbeOutcomeOut(BaseModel):
    connector: str
    dedup_key: str
    delivery_id: int
    status: str
    attempts: int
    http_status: int | None
    message: str | None
    errors: list[str] | None
    latency_ms: float | None
    resolve: ResolveOut | None
    waiting: WaitingOut | None = Field(
        description="not answered yet: what it waits for, and until when"
    )


class VerificationOut(BaseModel):
    ok: bool
    message: str
    urgency: str | None
    incident: str | None
    url: str | None


class ProbeTestOut(ProbeOutcomeOut):
    verification: VerificationOut | None = Field(
        description="the incident seen on the service (with a REST API key); null without one"
    )


class ProbeFailed(Error):
    outcome: ProbeOutcomeOut


class ProbeQueued(ProbeOutcomeOut):
    detail: str = Field(
        description="what it waits for or what went wrong so far, e.g. queued behind the rate "
        "budget until a time; follow GET /api/v1/pagerduty/deliveries/{delivery_id}"
    )


PROBE_ANSWERS: dict[int | str, dict[str, Any]] = {
    **errors(404),
    202: {"model": ProbeQueued, "description": "Queued, not answered yet: follow the row"},
    502: {"model": ProbeFailed, "description": "PagerDuty refused it"},
}


class ProbeRequest(Body):
    resolve_after_s: StrictFloat | None = Field(default=None, gt=0, le=MAX_RESOLVE_AFTER_S)
    severity: Severity = Field(
        default=Severity.INFO,
        description="critical or error test a high-urgency page end to end; info is low",
    )


class ProbeResolveRequest(Body):
    dedup_key: str = Field(
        min_length=1,
        max_length=255,
        description="the test's dedup key",
        json_schema_extra={"pattern": NO_NUL},  # Body refuses a NUL, with its own message
    )


@router.get("/connectors", response_model=ConnectorsOut)
def list_connectors(context: Ctx) -> dict[str, Any]:
    with context.reads.connect() as connection:
        views = connectors.list_all(connection)
    return {"connectors": [_connector(v, context.settings) for v in views]}


@router.post("/connectors", status_code=201, response_model=ConnectorOut, responses=errors(409))
def add_connector(request: ConnectorCreate, context: Ctx, caller: CallerName) -> dict[str, Any]:
    with context.engine.begin() as connection:
        view = connectors.add(
            connection,
            vault=context.vault,
            name=request.name,
            key=request.integration_key.get_secret_value(),
            settings=connector_settings.of(request),
            enable=request.enable,
            disable=request.disable,
            rest_key=None if request.rest_key is None else request.rest_key.get_secret_value(),
            by=caller,
            now=datetime.now(UTC),
        )
    return _connector(view, context.settings)


@router.get("/connectors/{name}", response_model=ConnectorOut, responses=errors(404))
def show_connector(name: str, context: Ctx) -> dict[str, Any]:
    with context.reads.connect() as connection:
        view = connectors.get(connection, name=name)
    return _connector(view, context.settings)


@router.patch("/connectors/{name}", response_model=ConnectorOut, responses=errors(404))
def change_connector(
    name: str, request: ConnectorChange, context: Ctx, caller: CallerName
) -> dict[str, Any]:
    key = request.integration_key
    rest_key = request.rest_key.get_secret_value() if request.rest_key is not None else None
    with context.engine.begin() as connection:
        view = connectors.update(
            connection,
            vault=context.vault,
            name=name,
            key=None if key is None else key.get_secret_value(),
            changes=connector_settings.changes(request),
            enable=request.enable,
            disable=request.disable,
            rest_key=rest_key if "rest_key" in request.model_fields_set else KEEP,
            by=caller,
            now=datetime.now(UTC),
        )
    return _connector(view, context.settings)


@router.delete("/connectors/{name}", status_code=204, responses=errors(404, 409))
def remove_connector(name: str, context: Ctx, caller: CallerName, force: bool = False) -> Response:
    with context.engine.begin() as connection:
        connectors.remove(connection, name=name, force=force, by=caller, now=datetime.now(UTC))
    return Response(status_code=204)


@router.post("/connectors/{name}/test", response_model=ProbeTestOut, responses=PROBE_ANSWERS)
async def test_connector(
    name: str, context: Ctx, request: ProbeRequest | None = None
) -> JSONResponse:
    resolve_after_s = request.resolve_after_s if request else None
    outcome = await run_in_threadpool(
        send_test_event,
        context,
        connector=name,
        resolve_after_s=resolve_after_s,
        severity=request.severity if request else Severity.INFO,
    )
    if outcome.error is not None:
        return _probe_answer(outcome)
    verified = await run_in_threadpool(
        verify.confirm, context, connector=name, dedup_key=outcome.dedup_key
    )
    answer = {**_outcome(outcome), "verification": verified and verified.to_json()}
    return JSONResponse(answer, status_code=200)


@router.post(
    "/connectors/{name}/test/resolve", response_model=ProbeOutcomeOut, responses=PROBE_ANSWERS
)
async def resolve_test(name: str, request: ProbeResolveRequest, context: Ctx) -> JSONResponse:
    outcome = await run_in_threadpool(
        resolve_test_event, context, connector=name, dedup_key=request.dedup_key
    )
    return _probe_answer(outcome)


def _probe_answer(outcome: ProbeOutcome) -> JSONResponse:
    """200 sent; 202 the row while it is not answered yet, saying what is known; 502 refused."""
    answer = _outcome(outcome)
    if outcome.error is None:
        return JSONResponse(answer, status_code=200)
    if not outcome.final:
        return JSONResponse({**answer, "detail": outcome.error}, status_code=202)
    return JSONResponse({**body(outcome.error, outcome.errors), "outcome": answer}, status_code=502)


def _connector(view: ConnectorView, settings: Settings) -> dict[str, Any]:
    last = view.last_delivery
    return {
        **connector_settings.of(view).model_dump(mode="json"),
        "name": view.name,
        "integration_key": view.key_masked,
        "endpoint": settings.pagerduty_endpoint(view.region),
        "rules": {rule.value: on for rule, on in view.rules.items()},
        "rest_key": view.rest_key_masked,
        "verified_at": None if view.verified_at is None else format_rfc3339(view.verified_at),
        "verified_urgency": view.verified_urgency,
        "open_incidents": view.open_incidents,
        "last_delivery": None
        if last is None
        else {"status": last.status, "at": format_rfc3339(last.at)},
        "created_at": format_rfc3339(view.created_at),
        "updated_at": format_rfc3339(view.updated_at),
    }


def _outcome(outcome: ProbeOutcome) -> dict[str, Any]:
    return {
        "connector": outcome.connector,
        "dedup_key": outcome.dedup_key,
        "delivery_id": outcome.delivery_id,
        "status": outcome.status,
        "attempts": outcome.attempts,
        "http_status": outcome.http_status,
        "message": outcome.message,
        "errors": outcome.errors,
        "latency_ms": outcome.latency_ms,
        "waiting": outcome.waiting,
        "resolve": None
        if outcome.resolve_delivery_id is None or outcome.resolve_at is None
        else {
            "delivery_id": outcome.resolve_delivery_id,
            "at": format_rfc3339(outcome.resolve_at),
        },
    }

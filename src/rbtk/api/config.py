"""Configuration as code: /api/v1/config[/plan|/apply] (admin tokens only).

    GET  /config          200 Exported; ?format=yaml answers the commented YAML instead
    POST /config/plan     200 Plan: what applying the document would do; nothing is written
    POST /config/apply    200 Plan, carried out in one transaction
                          both: 422 ConfigError naming each problem with its `loc` in the
                          document; nothing is changed

    Exported    {"document": the configuration document (`rbtk admin schema`), "secrets":
                 [{"loc", "masked", "fingerprint"}] what rbtk holds for each reference,
                 "defaults": [connectors getting what no routing rule matches]}
    Request     {"document", "secrets": {"connectors": {name: key}, "channels": {name:
                 secret}, "rest_keys": {name: REST API key}}, "force": false}: the document
                 as written, with the values its references name, read by the client where
                 the operator keeps them (the server has no access to the operator's
                 environment); `force` removes a connector left out of the document even
                 with open incidents
    Plan        {"changes": [{"action": create|change|remove, "kind", "name", "fields":
                 [{"field", "before", "after"}]}], "notes": [...], "applied": bool};
                 secrets only masked
    ConfigError {"detail", "errors": ["path: message"], "problems": [{"loc", "message"}]}

Secrets go in as `rbtk admin pd connectors add` sends a key, and never come out. The writes go
through `rbtk.admin` (`rbtk.config_file.apply`), recorded as made by the token's name.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, PlainValidator, SecretStr, StrictBool, ValidationError

from rbtk.api.deps import Admin, CallerName, Ctx
from rbtk.api.schema import Body, Error, errors
from rbtk.config_file import apply, export
from rbtk.config_file.document import Document, secret_fields
from rbtk.config_file.problems import ConfigProblems, from_validation
from rbtk.config_file.references import Secrets
from rbtk.context import Context
from rbtk.runtime.secrets import Secret

router = APIRouter(
    prefix="/api/v1",
    tags=["config"],
    dependencies=[Admin],
    responses=errors(400, 401, 403),
)


class SecretsIn(Body):
    connectors: dict[str, SecretStr] = Field(
        default_factory=dict, description="each connector's Integration Key, by name"
    )
    channels: dict[str, SecretStr] = Field(
        default_factory=dict, description="each chat channel's secret field, by name"
    )
    rest_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="the REST API key of each connector whose document names one, by name",
    )


def _as_sent(value: Any) -> dict[str, Any]:
    """The document as sent: `_apply` checks it against Document, naming each problem with its
    place in the document, and its secrets' names masked."""
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    return value


class ConfigIn(Body):
    document: Annotated[
        dict[str, Any], PlainValidator(_as_sent, json_schema_input_type=Document)
    ] = Field(description="the configuration document, as `rbtk admin schema` describes it")
    secrets: SecretsIn = Field(default_factory=SecretsIn)
    force: StrictBool = Field(
        default=False,
        description="remove a connector left out of the document even while it has open "
        "incidents (they are forgotten, their resolves never sent)",
    )


class HeldOut(BaseModel):
    loc: list[str | int]
    masked: str
    fingerprint: str = Field(description="the first hex digits of the secret's SHA-256")


class ExportedOut(BaseModel):
    document: dict[str, Any]
    secrets: list[HeldOut]
    defaults: list[str]


class DiffOut(BaseModel):
    field: str
    before: str | None
    after: str | None


class ChangeOut(BaseModel):
    action: Literal["create", "change", "remove"]
    kind: str
    name: str
    fields: list[DiffOut]


class PlanOut(BaseModel):
    changes: list[ChangeOut]
    notes: list[str]
    applied: bool


class ProblemOut(BaseModel):
    loc: list[str | int]
    message: str


class ConfigError(Error):
    problems: list[ProblemOut] | None = Field(
        default=None, description="each problem with where it is in the document"
    )


_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"model": ConfigError, "description": "The document cannot be applied"}
}


@router.get(
    "/config",
    response_model=ExportedOut,
    responses={
        200: {
            "content": {
                "application/yaml": {
                    "schema": {
                        "type": "object",
                        "description": "the document as commented YAML (?format=yaml)",
                    }
                }
            }
        },
        **errors(422),
    },
)
def get_config(context: Ctx, format: Literal["json", "yaml"] = "json") -> Any:
    now = datetime.now(UTC)
    with context.reads.connect() as connection:
        exported = export.export(connection, vault=context.vault, now=now)
    if format == "yaml":
        return Response(export.render(exported), media_type="application/yaml")
    return exported.as_json()


@router.post("/config/plan", response_model=PlanOut, responses=_REFUSED)
def plan_config(request: ConfigIn, context: Ctx, caller: CallerName) -> Any:
    return _apply(request, context, caller, dry_run=True)


@router.post("/config/apply", response_model=PlanOut, responses=_REFUSED)
def apply_config(request: ConfigIn, context: Ctx, caller: CallerName) -> Any:
    return _apply(request, context, caller, dry_run=False)


def _apply(request: ConfigIn, context: Context, caller: str, *, dry_run: bool) -> Any:
    try:
        document = Document.model_validate(request.document)
    except ValidationError as exc:
        return _refused(ConfigProblems(from_validation(exc, Document, secret_fields())))
    sent = request.secrets
    secrets = Secrets(
        connectors={name: Secret(v.get_secret_value()) for name, v in sent.connectors.items()},
        channels={name: Secret(v.get_secret_value()) for name, v in sent.channels.items()},
        rest_keys={name: Secret(v.get_secret_value()) for name, v in sent.rest_keys.items()},
    )
    try:
        with context.engine.begin() as connection:
            plan = apply.apply(
                connection,
                document,
                secrets=secrets,
                vault=context.vault,
                allow_private_webhooks=context.settings.allow_private_webhooks,
                force=request.force,
                by=caller,
                dry_run=dry_run,
                now=datetime.now(UTC),
            )
    except ConfigProblems as exc:
        return _refused(exc)
    applied = not dry_run and bool(plan.changes)
    if applied:
        context.wake_scheduler()  # a window opened or ended: held triggers are its to send
    return {**plan.as_json(), "applied": applied}


def _refused(problems: ConfigProblems) -> JSONResponse:
    return JSONResponse(
        {
            "detail": str(problems),
            "errors": problems.errors,
            "problems": [p.as_json() for p in problems.problems],
        },
        status_code=422,
    )

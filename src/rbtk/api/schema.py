"""What every route shares in its contract: request bodies' base, ids' range, the error shape."""

from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StrictInt,
    field_validator,
)

from rbtk.api.errors import ApiError
from rbtk.policy.events import MAX_DATA_DEPTH
from rbtk.policy.rules import Rule
from rbtk.routing.ordered_rules import MAX_PATTERN

# Row ids are INTEGER columns: 32-bit on PostgreSQL. A larger id names no row, and binding
# it fails in the driver ("integer out of range"), so it is refused as invalid instead.
MAX_ID = 2**31 - 1
NUL = "must not contain a NUL character"

RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
BeforeId = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="the previous answer's next_before_id")
]
AfterId = Annotated[
    int | None, Query(ge=0, le=MAX_ID, description="the previous answer's next_after_id")
]


def _has_nul(value: Any) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Body(BaseModel):
    """A request body: unknown fields and NUL characters (PostgreSQL stores none) refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError(NUL)
        return value


class Error(BaseModel):
    """Every error any route answers: what is wrong, and each problem when there are several."""

    detail: str
    errors: list[str] | None = Field(default=None, description="each problem, one a line")


async def no_nul_in_parameters(request: Request) -> None:
    """Path and query parameters with a NUL: a 422 naming them, not a driver error."""
    named = [("path", k, v) for k, v in request.path_params.items()]
    named += [("query", k, v) for k, v in request.query_params.multi_items()]
    errors = [f"{where}.{key}: {NUL}" for where, key, value in named if _has_nul(value)]
    errors += [f"{where}: a name {NUL}" for where, key, _ in named if _has_nul(key)]
    if errors:
        raise ApiError(422, "; ".join(errors), errors)


_DESCRIPTIONS = {
    400: "The body is not JSON, or not valid JSON",
    401: "No bearer token, or an invalid or revoked one",
    403: "The token may not do this (an events token on an admin route)",
    404: "Nothing by that name or id",
    409: "Conflicts with what is stored",
    413: "The request is too large",
    415: "The body is not sent as application/json",
    422: "A field is invalid: `errors` names each",
    502: "The destination refused or failed the test",
    503: "The database cannot take the change now (full, unavailable): nothing was stored; "
    "retry after Retry-After seconds",
    504: "No answer from the destination within the wait",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry of a route for these error statuses, all with the one Error."""
    return {code: {"model": Error, "description": _DESCRIPTIONS[code]} for code in codes}


def declared(**json_schema: Any) -> Any:
    """Constraints stated in the OpenAPI document only: the service functions enforce them,
    with messages that say what to do, which a generic pattern error would not."""
    return Field(json_schema_extra=json_schema)


NO_NUL = "^[^\\x00]*$"


def state_in_document(app: FastAPI) -> None:
    """Say in the OpenAPI document what the service enforces outside its models: every string
    path or query parameter without a pattern of its own gets NO_NUL (`no_nul_in_parameters`),
    and the schemas the routes that read their own bodies refer to (COMPONENTS) are listed."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    _no_nul(parameter.get("schema", {}))
        document.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _no_nul(schema: dict[str, Any]) -> None:
    for option in schema.get("anyOf", []):
        _no_nul(option)
    if schema.get("type") == "string" and "pattern" not in schema and "format" not in schema:
        schema["pattern"] = NO_NUL


# RFC 3339 with a timezone, within timefmt's range (1970 to 8999).
TIMESTAMP: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "pattern": "^(19[7-9][0-9]|[2-8][0-9]{3})-",
}


# An event's data is stored as it came, so its keys and strings hold no NUL (PostgreSQL
# stores none), at any depth.
COMPONENTS: dict[str, dict[str, Any]] = {
    "EventData": {
        "type": "object",
        "description": f"nested no deeper than {MAX_DATA_DEPTH} levels",
        "propertyNames": {"pattern": NO_NUL},
        "additionalProperties": {"$ref": "#/components/schemas/EventDataValue"},
    },
    "EventDataValue": {
        "anyOf": [
            {"type": "string", "pattern": NO_NUL},
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": {"$ref": "#/components/schemas/EventDataValue"}},
            {"$ref": "#/components/schemas/EventData"},
        ]
    },
}


def event_schema(*, required: list[str]) -> dict[str, Any]:
    """One platform event as the JSON request body; `data` is checked per type on arrival."""
    return {
        "type": "object",
        "required": required,
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": NO_NUL},
            "type": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": NO_NUL},
            "project_slug": {
                "type": "string",
                "minLength": 1,
                "maxLength": 128,
                "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
            },
            "occurred_at": TIMESTAMP,
            "data": {
                "$ref": "#/components/schemas/EventData",
                "description": "the type's payload (see the documentation); any object for "
                "an unknown type",
            },
        },
    }


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its JSON body itself."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


SLUG: dict[str, Any] = {"pattern": "^[a-z0-9][a-z0-9-]*$", "minLength": 1, "maxLength": 64}
SLUG_NAME = declared(**SLUG)
INTEGRATION_KEY = declared(pattern="^[A-Za-z0-9]{32}$", minLength=32, maxLength=32)
REST_API_KEY = declared(pattern="^[A-Za-z0-9_+-]{20}$", minLength=20, maxLength=20)
RULE_NAMES = declared(items={"type": "string", "enum": [rule.value for rule in Rule]})


def _whole(value: Any) -> Any:
    """JSON Schema's integer is any number without a fraction, 2.0 as much as 2: take it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = Annotated[StrictInt, BeforeValidator(_whole)]
Position = Annotated[WholeNumber, declared(minimum=1, maximum=MAX_ID)]
# What an ordered rule matches (a project, an event type): a name or a glob, never blank.
MATCHER: dict[str, Any] = {
    "minLength": 1,
    "maxLength": MAX_PATTERN,
    "pattern": "^[^\\x00]*[^\\x00\\s][^\\x00]*$",
}
Matcher = Annotated[str, declared(**MATCHER)]
# What a rule sends to: names of existing connectors or channels, each once.
TARGETS = declared(minItems=1, uniqueItems=True, items={"type": "string", **SLUG})

"""Chat channels: /api/v1/notify/channels[/{name}[/test]] and /rules (admin tokens only).

    GET    /channels              200 {"channels": [Channel]}
    POST   /channels              201 Channel; 409 name taken; 422 bad name, kind, URL, address
    PATCH  /channels/{name}       200 Channel: {"health": bool} marks it "rbtk health"; 404
    DELETE /channels/{name}       204; 404; 409 while rules name it
    POST   /channels/{name}/test  200 MessageOutcome once the channel accepted the message;
                                  502 refused or failed; 504 no answer within the wait; both
                                  with {"detail", "outcome": MessageOutcome}; 404
    GET    /rules                 200 {"rules": [Rule]}
    PUT    /rules                 200 {"rules": [Rule]}, saved as given; 422 naming every
                                  problem (unknown channels, duplicate positions, no
                                  channels): nothing is changed

    Create       {"name", "kind", "health" (default false), ...the kind's fields}: each
                 channel module lists its fields (rbtk.channels.registry), e.g. {"kind":
                 "slack", "webhook_url"}, {"kind": "email", "recipients": [...]}, {"kind":
                 "webhook", "url", "signing_secret"}
    Channel      {"name", "kind", "sends_to", "config": {its fields in the clear},
                  "secret": masked | null, "rules": [positions naming it], "health",
                  "created_at"}; "health": marked "rbtk health", told whenever pages are
                  stuck undelivered and when they recover, whatever the rules say
    Rule         {"position", "project", "event_type", "channels": [names]}; a null project
                 or event type matches every one, so a rule with neither matches everything
    MessageOutcome  {"channel", "delivery_id", "status", "http_status", "message"}

A channel's secret (a Slack webhook URL, a signing secret) goes in, and never comes out:
responses carry it masked.
"""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictBool, create_model

from rbtk.admin import chat_channels, probes
from rbtk.admin.chat_channels import ChannelView
from rbtk.admin.probes import MessageProbeOutcome
from rbtk.api.deliveries import WaitingOut
from rbtk.api.deps import Admin, CallerName, Ctx
from rbtk.api.schema import SLUG, SLUG_NAME, TARGETS, Body, Error, Matcher, Position, errors
from rbtk.channels.base import ChatChannel
from rbtk.channels.base import Field as ChannelField
from rbtk.channels.registry import CHAT
from rbtk.routing import chat
from rbtk.routing.chat import ChatRule
from rbtk.runtime.timefmt import format_rfc3339

router = APIRouter(
    prefix="/api/v1/notify",
    tags=["notify"],
    dependencies=[Admin],
    responses=errors(400, 401, 403, 422),
)

MAX_RULES = 1000


def _field(field: ChannelField) -> tuple[Any, Any]:
    """A channel's field as the API takes it; a secret as SecretStr, never in a repr or a
    validation error."""
    kinds = ", ".join(c.label for c in CHAT.values() if field in c.fields)
    described = Field(default=None, description=f"{field.help} ({kinds})")
    if field.many:
        return list[str] | None, described
    return (SecretStr if field.secret else str) | None, described


_HEALTH = (
    'marked "rbtk health": told when pages are stuck undelivered for longer than '
    "RBTK_STUCK_AFTER_S, and when they recover, whatever the rules say"
)

# Built from the registry, so a new channel's fields are in the API (and its document)
# with no edit here.
_FIELDS = {f.name: f for channel in CHAT.values() for f in channel.fields}


def _kind(channel: ChatChannel) -> dict[str, Any]:
    """One kind's request as the document states it: its own fields, each required; another
    kind's only as null (left out, as the service takes it)."""
    own = {f.name: {**f.schema, "description": f.help} for f in channel.fields}
    return {
        "title": f"{channel.label} channel",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "kind", *own],
        "properties": {
            "name": {"type": "string", **SLUG},
            "kind": {"const": channel.kind},
            "health": {"type": "boolean", "default": False, "description": _HEALTH},
            **{name: {"type": "null"} for name in _FIELDS if name not in own},
            **own,
        },
    }


def _one_schema_per_kind(schema: dict[str, Any]) -> None:
    schema.clear()
    schema.update(
        title="ChannelIn",
        oneOf=[_kind(channel) for channel in CHAT.values()],
        discriminator={"propertyName": "kind"},
    )


class _OneKind(Body):
    """A channel of one kind: checked by the kind's channel module (its messages say what to
    fix), stated in the document as one schema per kind."""

    model_config = ConfigDict(json_schema_extra=_one_schema_per_kind)


if TYPE_CHECKING:
    ChannelIn = Body
else:
    ChannelIn = create_model(
        "ChannelIn",
        __base__=_OneKind,
        name=(Annotated[str, SLUG_NAME], ...),
        kind=(Literal[tuple(CHAT)], ...),
        health=(StrictBool, Field(default=False, description=_HEALTH)),
        **{name: _field(field) for name, field in _FIELDS.items()},
    )


class ChannelChange(Body):
    health: StrictBool = Field(description=_HEALTH)


class RuleIn(Body):
    position: Position
    project: Matcher | None = None
    event_type: Matcher | None = None
    channels: Annotated[list[str], TARGETS]


class RulesIn(Body):
    rules: list[RuleIn] = Field(max_length=MAX_RULES)


class ChannelOut(BaseModel):
    name: str
    kind: str = Field(json_schema_extra={"enum": list(CHAT)})
    sends_to: str = Field(description="where it sends, a secret only masked")
    config: dict[str, Any] = Field(description="its fields in the clear, e.g. recipients")
    secret: str | None = Field(description="its secret field, masked")
    rules: list[int] = Field(description="positions of the rules naming it")
    health: bool = Field(description=_HEALTH)
    created_at: str


class ChannelsOut(BaseModel):
    channels: list[ChannelOut]


class NotifyRuleOut(BaseModel):
    position: int
    project: str | None
    event_type: str | None
    channels: list[str]


class NotifyRulesOut(BaseModel):
    rules: list[NotifyRuleOut]


class MessageOutcomeOut(BaseModel):
    channel: str
    delivery_id: int
    status: str
    http_status: int | None
    message: str | None
    waiting: WaitingOut | None = Field(
        description="not answered yet: what it waits for, and until when"
    )


class MessageFailed(Error):
    outcome: MessageOutcomeOut


class MessageQueued(MessageOutcomeOut):
    detail: str = Field(
        description="what it waits for or what went wrong so far, e.g. queued behind the rate "
        "budget until a time; follow GET /api/v1/notify/deliveries/{delivery_id}"
    )


@router.get("/channels", response_model=ChannelsOut)
def list_channels(context: Ctx) -> dict[str, Any]:
    with context.reads.connect() as connection:
        views = chat_channels.list_channels(connection)
    return {"channels": [channel_json(v) for v in views]}


@router.post("/channels", status_code=201, response_model=ChannelOut, responses=errors(409))
def add_channel(request: ChannelIn, context: Ctx, caller: CallerName) -> dict[str, Any]:
    given = request.model_dump(exclude_none=True)
    values = {
        k: v.get_secret_value() if isinstance(v, SecretStr) else v
        for k, v in given.items()
        if k not in ("name", "kind", "health")
    }
    with context.engine.begin() as connection:
        view = chat_channels.add_channel(
            connection,
            vault=context.vault,
            name=given["name"],
            kind=given["kind"],
            values=values,
            allow_private_webhooks=context.settings.allow_private_webhooks,
            by=caller,
            now=datetime.now(UTC),
            health=given.get("health", False),
        )
    return channel_json(view)


@router.patch("/channels/{name}", response_model=ChannelOut, responses=errors(404))
def change_channel(
    name: str, request: ChannelChange, context: Ctx, caller: CallerName
) -> dict[str, Any]:
    with context.engine.begin() as connection:
        view = chat_channels.set_health(
            connection, name=name, health=request.health, by=caller, now=datetime.now(UTC)
        )
    return channel_json(view)


@router.delete("/channels/{name}", status_code=204, responses=errors(404, 409))
def remove_channel(name: str, context: Ctx, caller: CallerName) -> Response:
    with context.engine.begin() as connection:
        chat_channels.remove_channel(connection, name=name, by=caller, now=datetime.now(UTC))
    return Response(status_code=204)


@router.post(
    "/channels/{name}/test",
    response_model=MessageOutcomeOut,
    responses={
        **errors(404),
        202: {"model": MessageQueued, "description": "Queued, not answered yet: follow the row"},
        502: {"model": MessageFailed, "description": "The channel refused it"},
    },
)
async def test_channel(name: str, context: Ctx) -> JSONResponse:
    """200 sent; 202 the row at once while it is not answered yet; 502 refused for good."""
    outcome = await run_in_threadpool(probes.send_test_message, context, channel=name)
    answer = _outcome(outcome)
    if outcome.error is None:
        return JSONResponse(answer, status_code=200)
    if not outcome.final:
        return JSONResponse({**answer, "detail": outcome.error}, status_code=202)
    return JSONResponse({"detail": outcome.error, "outcome": answer}, status_code=502)


@router.get("/rules", response_model=NotifyRulesOut)
def get_rules(context: Ctx) -> dict[str, Any]:
    with context.reads.connect() as connection:
        return {"rules": [r.as_json() for r in chat.load_rules(connection)]}


@router.put("/rules", response_model=NotifyRulesOut)
def put_rules(request: RulesIn, context: Ctx, caller: CallerName) -> dict[str, Any]:
    rules = [ChatRule.from_json(r.model_dump()) for r in request.rules]
    with context.engine.begin() as connection:
        saved = chat_channels.replace_rules(connection, rules, by=caller, now=datetime.now(UTC))
    return {"rules": [r.as_json() for r in saved]}


def channel_json(view: ChannelView) -> dict[str, Any]:
    return {
        "name": view.name,
        "kind": view.kind,
        "sends_to": view.sends_to,
        "config": view.config,
        "secret": view.secret_masked,
        "rules": view.rules,
        "health": view.health,
        "created_at": format_rfc3339(view.created_at),
    }


def _outcome(outcome: MessageProbeOutcome) -> dict[str, Any]:
    return {
        "channel": outcome.channel,
        "delivery_id": outcome.delivery_id,
        "status": outcome.status,
        "http_status": outcome.http_status,
        "message": outcome.message,
        "waiting": outcome.waiting,
    }

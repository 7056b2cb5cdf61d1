"""The configuration document: what `rbtk admin export` prints and `rbtk admin apply` takes.

One YAML file (JSON is YAML too) holds all of it: PagerDuty connectors and routing, chat
channels and rules, the suppression windows not yet over. It is the whole configuration: what
the file leaves out is removed, so each section must be there, if only as `[]`.

Secrets are never in it. Each is a reference to where the operator keeps it: `key_env` (an
environment variable) or `key_file` (a file) for a connector's Integration Key,
`rest_key_env` / `rest_key_file` for its REST API key if it has one (reconcile's), and
`<field>_env` / `<field>_file` for a chat channel's secret field (`webhook_url_env`). The CLI
reads them where it runs (`rbtk.config_file.references`) and sends the values to rbtk as
`rbtk admin pd connectors add` sends a key.

The models check each value on its own; `problems` checks what spans sections (a routing rule
naming a connector the file does not declare), so each problem names its own place. What only
the stored configuration can say (an open incident on a connector to remove) is found when the
plan is carried out (`rbtk.config_file.apply`). `schema()` is the published JSON Schema,
committed as docs/rbtk-config.schema.json.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    create_model,
    field_validator,
    model_validator,
)

from rbtk.admin.connector_settings import ConnectorSettings
from rbtk.admin.runbooks import MAX_URL
from rbtk.admin.runbooks import URL_PATTERN as RUNBOOK_URL
from rbtk.channels.base import ChatChannel
from rbtk.channels.base import Field as ChannelField
from rbtk.channels.registry import CHAT
from rbtk.config_file.problems import Loc, Problem
from rbtk.policy.rules import DEFAULT_ENABLED, Rule
from rbtk.runtime.timefmt import parse_rfc3339

VERSION = 1
DIALECT = "https://json-schema.org/draft/2020-12/schema"

_SLUG = "^[a-z0-9][a-z0-9-]*$"
_ENV = "^[A-Za-z_][A-Za-z0-9_]*$"


def _no_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, list | tuple):
        return all(_no_nul(v) for v in value)
    return True


def _references(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """In the schema too: of each `<name>_env` and `<name>_file` pair, exactly one is given, or
    at most one for a secret the model may go without (its `optional_secrets`)."""
    properties = schema.get("properties", {})
    pairs = [p.removesuffix("_env") for p in properties if p.endswith("_env")]
    pairs = [name for name in pairs if f"{name}_file" in properties]
    optional: frozenset[str] = getattr(model, "optional_secrets", frozenset())
    if pairs:
        schema["allOf"] = [
            {"not": {"required": [f"{name}_env", f"{name}_file"]}}
            if name in optional
            else {"oneOf": [{"required": [f"{name}_env"]}, {"required": [f"{name}_file"]}]}
            for name in pairs
        ]


class Section(BaseModel):
    """A part of the document: unknown keys (a typo) and NUL characters refused."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_references)
    optional_secrets: ClassVar[frozenset[str]] = frozenset()  # of its `<name>_env` pairs

    @field_validator("*", mode="after")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if not _no_nul(value):
            raise ValueError("must not contain a NUL character")
        return value


def env_name(name: str, what: str) -> str:
    """`PD_PRODUCTION_KEY`: the environment variable export names for `what` of `name`."""
    return f"{name}_{what}".upper().replace("-", "_")


@dataclass(frozen=True)
class Reference:
    """Where a secret is kept: `field` is the document's key (`key_env`), `value` the variable's
    name or the file's path."""

    field: str
    kind: Literal["env", "file"]
    value: str


def _reference(model: BaseModel, name: str, what: str) -> Reference:
    env, file = getattr(model, f"{name}_env"), getattr(model, f"{name}_file")
    if (env is None) == (file is None):
        raise ValueError(
            f"give {name}_env (the environment variable holding {what}) or {name}_file "
            "(a file holding it), "
            + ("not both" if env is not None else "one of them: the file never holds it itself")
        )
    if env is not None:
        return Reference(f"{name}_env", "env", env)
    return Reference(f"{name}_file", "file", file)


def _optional_reference(model: BaseModel, name: str, what: str) -> Reference | None:
    """None when neither `<name>_env` nor `<name>_file` is given: the secret is not to be."""
    if getattr(model, f"{name}_env") is None and getattr(model, f"{name}_file") is None:
        return None
    return _reference(model, name, what)


def _env_field(what: str) -> Any:
    return Field(
        default=None,
        pattern=_ENV,
        max_length=255,
        description=f"the environment variable holding {what}, read where `rbtk admin apply` runs",
    )


def _file_field(what: str) -> Any:
    return Field(
        default=None,
        min_length=1,
        max_length=4096,
        description=f"a file holding {what} (spaces and line breaks around it are dropped); a "
        "relative path is read from the document's folder",
    )


_KEY = "the connector's 32-character Integration Key"
_REST_KEY = "the connector's 20-character PagerDuty REST API key"


class Connector(ConnectorSettings, Section):
    """A PagerDuty connector: one service's Events API v2 integration. Its key is named by
    `key_env` or `key_file`, never written here; so is its REST API key, which reconcile reads
    its service with, by `rest_key_env` or `rest_key_file` (neither: it has none)."""

    optional_secrets: ClassVar[frozenset[str]] = frozenset({"rest_key"})

    name: str = Field(pattern=_SLUG, max_length=64, description="unique, e.g. pd-production")
    key_env: str | None = _env_field(_KEY)
    key_file: str | None = _file_field(_KEY)
    rules: dict[Rule, StrictBool] = Field(
        default_factory=dict,
        description="each paging rule on (true) or off; a rule left out takes its default: "
        "every rule on but standard_amendment",
    )
    rest_key_env: str | None = _env_field(_REST_KEY)
    rest_key_file: str | None = _file_field(_REST_KEY)

    @model_validator(mode="after")
    def _one_key(self) -> Self:
        _ = self.key  # raises unless exactly one of key_env and key_file is given
        _ = self.rest_key  # raises when both rest_key_env and rest_key_file are given
        return self

    @property
    def key(self) -> Reference:
        return _reference(self, "key", _KEY)

    @property
    def rest_key(self) -> Reference | None:
        return _optional_reference(self, "rest_key", _REST_KEY)

    def enabled(self) -> dict[Rule, bool]:
        """Every rule, on or off, as this connector is to have them."""
        return {rule: self.rules.get(rule, rule in DEFAULT_ENABLED) for rule in Rule}


_PROJECT = "a project slug or glob (`staging-*`); left out: every project"
_EVENT_TYPE = "an event type or glob (`runner_pool.*`); left out: every type"


class RouteRule(Section):
    """A PagerDuty routing rule: the first rule matching an event's project and type names the
    connectors it goes to."""

    project: str | None = Field(default=None, min_length=1, max_length=255, description=_PROJECT)
    event_type: str | None = Field(
        default=None, min_length=1, max_length=255, description=_EVENT_TYPE
    )
    connectors: list[str] = Field(min_length=1, description="names of connectors in this file")


class PagerDuty(Section):
    """PagerDuty: connectors, the routing rules in order (first match wins), and a runbook URL
    per paging rule."""

    connectors: list[Connector]
    routing: list[RouteRule]
    runbooks: dict[Rule, Annotated[str, Field(pattern=RUNBOOK_URL, max_length=MAX_URL)]] | None = (
        Field(
            default=None,
            description="each paging rule's runbook URL, linked from every incident it opens; "
            "a rule left out has none. Left out whole: the runbooks stay as they are",
        )
    )


class ChannelBase(Section):
    """What every chat channel has; each kind adds its own fields (rbtk.channels.registry)."""

    name: str = Field(pattern=_SLUG, max_length=64, description="unique, e.g. ops-slack")
    kind: str
    health: StrictBool = Field(
        default=False,
        description='marked "rbtk health": told when pages are stuck undelivered, whatever '
        "the rules say",
    )

    @model_validator(mode="after")
    def _one_secret(self) -> Self:
        _ = self.secret  # raises unless exactly one reference names the secret
        return self

    @property
    def secret_field(self) -> ChannelField | None:
        return next((f for f in CHAT[self.kind].fields if f.secret), None)

    @property
    def secret(self) -> Reference | None:
        field = self.secret_field
        return None if field is None else _reference(self, field.name, _secret_what(field))

    def values(self) -> dict[str, Any]:
        """The kind's fields in the clear (email recipients, a webhook's URL)."""
        fields = CHAT[self.kind].fields
        return {f.name: getattr(self, f.name) for f in fields if not f.secret}


def _secret_what(field: ChannelField) -> str:
    return f"the channel's {field.label}"


def _channel_model(channel: ChatChannel) -> type[ChannelBase]:
    """The channel kind's model: its fields from the registry, a secret one as references."""
    fields: dict[str, Any] = {"kind": (Literal[channel.kind], ...)}
    for field in channel.fields:
        if field.secret:
            what = _secret_what(field)
            fields[f"{field.name}_env"] = (str | None, _env_field(what))
            fields[f"{field.name}_file"] = (str | None, _file_field(what))
        elif field.many:
            fields[field.name] = (list[str], Field(min_length=1, description=field.help))
        else:
            fields[field.name] = (str, Field(min_length=1, description=field.help))
    return create_model(
        f"{channel.label}Channel",
        __base__=ChannelBase,
        __doc__=f"A {channel.label} chat channel ({channel.summary}).",
        **fields,
    )


CHANNEL_MODELS = tuple(_channel_model(channel) for channel in CHAT.values())

if TYPE_CHECKING:
    ChatChannelDoc = ChannelBase
else:
    ChatChannelDoc = Annotated[Union[CHANNEL_MODELS], Field(discriminator="kind")]  # noqa: UP007


class ChatRule(Section):
    """A chat rule: the first rule matching an event's project and type names the channels it
    goes to. A rule with neither matches every event."""

    project: str | None = Field(default=None, min_length=1, max_length=255, description=_PROJECT)
    event_type: str | None = Field(
        default=None, min_length=1, max_length=255, description="an event type or glob"
    )
    channels: list[str] = Field(min_length=1, description="names of channels in this file")


class Chat(Section):
    """Slack, email and webhook channels for what does not page, and their rules in order."""

    channels: list[ChatChannelDoc]
    rules: list[ChatRule]


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is None:  # YAML reads an unquoted time
        raise ValueError("has no timezone; add Z or an offset such as +02:00")
    return parse_rfc3339(value)


Moment = Annotated[datetime, BeforeValidator(_moment)]


class Window(Section):
    """A suppression window: the connector's triggers are held back from `starts_at` until
    `ends_at` (RFC 3339, with a timezone), then sent if still firing."""

    connector: str = Field(description="the name of a connector in this file")
    starts_at: Moment
    ends_at: Moment
    reason: str = Field(min_length=1, max_length=1000, pattern="\\S")


class Document(Section):
    """rbtk's whole configuration. Applying it makes rbtk match it: what it leaves out is
    removed. Secrets are named by `*_env` or `*_file`, never written in it."""

    model_config = ConfigDict(extra="forbid", title="rbtk configuration")

    version: Literal[1] = Field(description="the document format: 1")
    pagerduty: PagerDuty
    chat: Chat
    suppressions: list[Window] = Field(
        description="windows not yet over (one that has ended is skipped)"
    )


def schema() -> dict[str, Any]:
    """The document's JSON Schema, as published."""
    generated = Document.model_json_schema()
    first = {key: generated.pop(key) for key in ("title", "description")}
    return {"$schema": DIALECT, **first, **generated}


def secret_fields() -> frozenset[str]:
    """The names of the secrets named by `<name>_env` but the Integration Key's: a connector's
    `rest_key`, every chat channel's secret field (`webhook_url`)."""
    return frozenset({"rest_key"} | {f.name for c in CHAT.values() for f in c.fields if f.secret})


def problems(document: Document) -> list[Problem]:
    """What the document gets wrong across sections: a name declared twice, a rule or window
    naming a connector or channel the file does not declare."""
    found: list[Problem] = []
    pd, chat = ("pagerduty", "connectors"), ("chat", "channels")
    connectors = _declared(document.pagerduty.connectors, pd, "connector", found)
    channels = _declared(document.chat.channels, chat, "channel", found)
    for at, rule in enumerate(document.pagerduty.routing):
        loc: Loc = ("pagerduty", "routing", at, "connectors")
        named = [(name, (*loc, i)) for i, name in enumerate(rule.connectors)]
        found += _unknown(named, connectors, "connector", "pagerduty.connectors")
    for at, chat_rule in enumerate(document.chat.rules):
        loc = ("chat", "rules", at, "channels")
        named = [(name, (*loc, i)) for i, name in enumerate(chat_rule.channels)]
        found += _unknown(named, channels, "channel", "chat.channels")
    for at, window in enumerate(document.suppressions):
        loc = ("suppressions", at)
        named = [(window.connector, (*loc, "connector"))]
        found += _unknown(named, connectors, "connector", "pagerduty.connectors")
        if window.ends_at <= window.starts_at:
            found.append(Problem((*loc, "ends_at"), "must be after starts_at"))
    return found


def _declared(items: Iterable[Any], section: Loc, noun: str, found: list[Problem]) -> set[str]:
    first: dict[str, int] = {}
    for at, item in enumerate(items):
        if item.name in first:
            where = Problem((*section, first[item.name]), "").path
            message = f"{noun} {item.name!r} is declared twice (first at {where}); names are unique"
            found.append(Problem((*section, at, "name"), message))
        else:
            first[item.name] = at
    return set(first)


def _unknown(named: list[tuple[str, Loc]], known: set[str], noun: str, where: str) -> list[Problem]:
    return [
        Problem(loc, f"no {noun} named {name!r} in this file: declare it under {where}")
        for name, loc in named
        if name not in known
    ]

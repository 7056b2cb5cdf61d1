"""A PagerDuty connector's settings, declared once.

`ConnectorSettings` is the one type of what a connector is set to, apart from its name, its
two secrets (the Integration Key, the REST API key) and its rule toggles, which each take a
path of their own. From it come, without a field written again: the stored columns (a nested
setting's column joins its path with `_`: `storm_window_s`), the admin checks and their
messages, the API's request and response models (the change model is `partial`), the CLI's
options (`rbtk.cli.admin.pd.connectors.options`), the settings pages' parsing of a form
(`from_form`), configuration as code's `Connector` section, the plan's diff (`flat`, joined with
`.`) and the audit (`flat`, joined with `_`).

A field says how it is shown with `Shown` in its `Annotated` metadata: the label the pages use,
the unit of a number, the CLI flag where it is not the field's own name.

Recipe (a connector setting): add the field here, its column to `store/tables.py` with a
migration, and show it on the connector page (`web/templates/connector.html`).
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)
from pydantic import field_validator as _field_validator

from rbtk.policy.severity import Severity
from rbtk.runtime.errors import Invalid

STORM_THRESHOLD = (1, 100_000)
STORM_WINDOW_S = (10, 3600)
SERVICE_ID = "[A-Z0-9]{6,20}"  # a PagerDuty service id, as its URLs show it (P1ABCDE)
REGIONS = ("us", "eu")

_SERVICE_ID = re.compile(SERVICE_ID, re.ASCII)


class InvalidConnector(Invalid):
    pass


@dataclass(frozen=True)
class Shown:
    """How a setting is named to people: its label on the pages (and in their messages), the
    unit of a number, and a CLI flag or metavar where the field's own name does not serve."""

    label: str
    unit: str = ""
    flag: str | None = None  # without dashes: "default" for --default/--no-default
    metavar: str | None = None


def whole(value: object) -> object:
    """60.0 is the whole number 60, as JSON Schema's integer has it; "60" stays a string."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def service_id(value: str) -> str:
    value = value.strip()
    if not _SERVICE_ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a PagerDuty service id: copy it from the service's URL in "
            "PagerDuty (…/service-directory/PXXXXXX), e.g. 'P1ABCDE'"
        )
    return value


ServiceId = Annotated[
    str,
    Field(max_length=32, json_schema_extra={"pattern": f"^{SERVICE_ID}$"}),
    AfterValidator(service_id),
]


class Settings(BaseModel):
    """A part of the settings: unknown fields and NUL characters refused, as every body is."""

    model_config = ConfigDict(extra="forbid")

    @_field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value


class Storm(Settings):
    """Storm collapse: more than `threshold` new incidents within `window_s` seconds page as one
    umbrella incident while `collapse` is on (rbtk.outbox.storms)."""

    collapse: Annotated[bool, Shown("Collapse storms")] = Field(
        default=True,
        strict=True,
        description="page a burst of new incidents as one umbrella incident",
    )
    threshold: Annotated[
        int,
        Field(strict=True, ge=STORM_THRESHOLD[0], le=STORM_THRESHOLD[1]),
        BeforeValidator(whole),
        Shown("Storm threshold", unit="new incidents", metavar="N"),
    ] = Field(default=20, description="a storm is more than this many new incidents in the window")
    window_s: Annotated[
        int,
        Field(strict=True, ge=STORM_WINDOW_S[0], le=STORM_WINDOW_S[1]),
        BeforeValidator(whole),
        Shown("Storm window", unit="seconds", flag="storm-window", metavar="SECONDS"),
    ] = Field(default=60, description="the storm window, in seconds")


class ConnectorSettings(Settings):
    region: Annotated[Literal["us", "eu"], Shown("Region")] = Field(
        default="us", description="the PagerDuty service region"
    )
    is_default: Annotated[bool, Shown("Default connector", flag="default")] = Field(
        default=True, strict=True, description="it gets the events no routing rule matches"
    )
    send_info: Annotated[bool, Shown("Send info")] = Field(
        default=False, strict=True, description="also send it info-severity events"
    )
    change_events: Annotated[bool, Shown("Release change events")] = Field(
        default=True, strict=True, description="send releases to its service as change events"
    )
    max_severity: Annotated[Severity | None, Shown("Severity cap", metavar="LEVEL")] = Field(
        default=None, description="the highest severity it is sent, e.g. warning; none: no cap"
    )
    storm: Storm = Field(default_factory=Storm)
    service_id: Annotated[ServiceId | None, Shown("Service id", metavar="PXXXXXX")] = Field(
        default=None,
        description="the PagerDuty service its integration key feeds, which reconcile reads, "
        "e.g. P1ABCDE",
    )
    repage_resolved_by_hand: Annotated[bool, Shown("Page again when resolved by hand")] = Field(
        default=False,
        strict=True,
        description="reconcile pages again a lane resolved by hand in PagerDuty while it still "
        "fires",
    )


# The fields, walked


@dataclass(frozen=True)
class Leaf:
    """One setting at the end of its path: `("storm", "window_s")`."""

    path: tuple[str, ...]
    annotation: Any  # the field's type, without None
    nullable: bool
    default: Any
    description: str
    shown: Shown

    def name(self, sep: str = "_") -> str:
        return sep.join(self.path)

    @property
    def flag(self) -> str:
        return self.shown.flag or self.name("-").replace("_", "-")


def leaves(model: type[BaseModel] = ConnectorSettings) -> Iterator[Leaf]:
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            for leaf in leaves(kind):
                yield Leaf((name, *leaf.path), *_rest(leaf))
            continue
        nullable = type(None) in get_args(kind)
        if nullable:
            kind = next(arg for arg in get_args(kind) if arg is not type(None))
        shown = next((m for m in info.metadata if isinstance(m, Shown)), Shown(name))
        yield Leaf((name,), kind, nullable, info.get_default(call_default_factory=True),
                   info.description or "", shown)  # fmt: skip


def _rest(leaf: Leaf) -> tuple[Any, bool, Any, str, Shown]:
    return leaf.annotation, leaf.nullable, leaf.default, leaf.description, leaf.shown


def flat(settings: ConnectorSettings, sep: str = "_") -> dict[str, Any]:
    """{"storm_window_s": 60, …}: each setting as JSON would hold it, by its joined path."""
    dumped = settings.model_dump(mode="json")
    return {leaf.name(sep): _at(dumped, leaf.path) for leaf in leaves()}


def nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """The other way: {"storm_window_s": 60} → {"storm": {"window_s": 60}}, for what is given."""
    out: dict[str, Any] = {}
    for leaf in leaves():
        if leaf.name() in values:
            at = out
            for part in leaf.path[:-1]:
                at = at.setdefault(part, {})
            at[leaf.path[-1]] = values[leaf.name()]
    return out


def columns() -> list[str]:
    """The stored columns, one a setting, named as `flat` names them."""
    return [leaf.name() for leaf in leaves()]


def labels() -> dict[str, str]:
    return {leaf.name(): leaf.shown.label for leaf in leaves()}


def _at(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        values = values[part]
    return values


# Checked, with messages that say what to do


def parse(given: Mapping[str, Any], base: ConnectorSettings | None = None) -> ConnectorSettings:
    """`base` (or the defaults) with what is `given` (nested, as the API writes it), checked:
    InvalidConnector names the first wrong field by its joined name (`storm_window_s`)."""
    fields = set(ConnectorSettings.model_fields)
    merged = _merge((base or ConnectorSettings()).model_dump(include=fields), given)
    try:
        return ConnectorSettings.model_validate(merged)
    except ValidationError as exc:
        raise _refusal(exc) from None


def _merge(base: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in given.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _refusal(exc: ValidationError) -> InvalidConnector:
    error = exc.errors()[0]
    path = tuple(str(part) for part in error["loc"] if not str(part).startswith("function-"))
    leaf = next((leaf for leaf in leaves() if leaf.path == path[: len(leaf.path)]), None)
    field = "_".join(path) if leaf is None else leaf.name()
    value, ctx = error.get("input"), error.get("ctx") or {}
    kind = error["type"]
    if kind in ("greater_than_equal", "less_than_equal") and leaf is not None:
        low, high = _bounds(leaf)
        said = f"must be {low:,} to {high:,} {leaf.shown.unit}, got {value:,}".replace("  ", " ")
    elif kind == "literal_error":
        said = f"must be {ctx['expected']}, got {value!r}"
    elif kind == "enum" and leaf is not None and issubclass(leaf.annotation, Enum):
        noun = leaf.annotation.__name__.lower()
        said = (
            f"{value!r} is not a {noun}; use one of {', '.join(m.value for m in leaf.annotation)}"
        )
    else:
        said = error["msg"].removeprefix("Value error, ")
    return InvalidConnector(f"{field}: {said}", field=field)


def _bounds(leaf: Leaf) -> tuple[int, int]:
    info = ConnectorSettings.model_fields[leaf.path[0]]
    for part in leaf.path[1:]:
        info = info.annotation.model_fields[part]  # type: ignore[union-attr]
    low = next(m.ge for m in info.metadata if hasattr(m, "ge"))
    high = next(m.le for m in info.metadata if hasattr(m, "le"))
    return low, high


# Derived shapes


def partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    """The model with every field optional and None by default: a change gives only what it
    changes (a PATCH, `rbtk admin pd connectors update`), and a nested part is partial too."""
    fields: dict[str, Any] = {}
    for field, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            kind = partial(kind, f"{name}{kind.__name__}")
            fields[field] = (kind | None, Field(default=None, description=info.description))
            continue
        if get_origin(kind) is not None and type(None) in get_args(kind):
            kind = next(arg for arg in get_args(kind) if arg is not type(None))
        annotated = Annotated[kind | None, *info.metadata]  # type: ignore[valid-type]
        fields[field] = (annotated, Field(default=None, description=info.description))
    return create_model(name, __base__=Settings, **fields)


def changes(given: BaseModel) -> dict[str, Any]:
    """What a partial model was given, nested: a null removes a setting that may be none (the
    severity cap, the service id), and leaves one that may not (a flag) as it is."""
    nullable = {leaf.path for leaf in leaves() if leaf.nullable}

    def kept(values: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, Mapping):
                out[key] = kept(value, (*path, key))
            elif value is not None or (*path, key) in nullable:
                out[key] = value
        return out

    fields = set(ConnectorSettings.model_fields)
    return kept(given.model_dump(exclude_unset=True, include=fields), ())


def of(model: BaseModel) -> ConnectorSettings:
    """The settings a larger model holds (an API request, the file's connector, a view)."""
    return ConnectorSettings.model_validate(
        model.model_dump(include=set(ConnectorSettings.model_fields))
    )


def from_form(form: Mapping[str, str], shown: set[str]) -> dict[str, Any]:
    """What a settings form gives, nested, for the settings it `shown` (by joined name, as its
    inputs are named): a box left unticked is off, an empty choice is none, and a number must
    be whole."""
    given: dict[str, Any] = {}
    for leaf in leaves():
        name = leaf.name()
        if name not in shown:
            continue
        text = form.get(name, "").strip()
        value: Any
        if leaf.annotation is bool:
            value = text == "on"
        elif leaf.annotation is int:
            if not text.isdigit():
                raise InvalidConnector(f"{name}: {text!r} is not a whole number", field=name)
            value = int(text)
        else:
            value = text or (None if leaf.nullable else "")
        given[name] = value
    return nested(given)

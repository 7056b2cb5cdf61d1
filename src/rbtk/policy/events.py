"""Platform events: the envelope, a typed payload per known type, and parsing with clear errors."""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    StrictBool,
    StrictInt,
    ValidationError,
    WithJsonSchema,
)

from rbtk.runtime.timefmt import RFC3339_SCHEMA, parse_rfc3339

Timestamp = Annotated[
    datetime, BeforeValidator(parse_rfc3339), WithJsonSchema(RFC3339_SCHEMA, mode="validation")
]
Name = Annotated[str, Field(min_length=1, max_length=1024)]
# A count or number the platform sends: never negative, and exact in any JSON reader
# (PagerDuty's pages, a browser) up to 2**53 - 1; 10**100 jobs is a typo, not a queue.
Count = Annotated[StrictInt, Field(ge=0, le=2**53 - 1)]
MAX_DATA_DEPTH = 32

Slug = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class Payload(BaseModel):
    # Extra fields are kept: the platform may add fields before rbtk knows them.
    model_config = ConfigDict(extra="allow", frozen=True)


class RunnerPoolOffline(Payload):
    pool_name: Name
    pool_type: Literal["hosted", "self-hosted"] | None = None
    airgapped: StrictBool = False
    last_heartbeat_at: Timestamp | None = None
    queued_jobs: Count | None = None


class RunnerPoolOnline(Payload):
    pool_name: Name


class ReleasePublished(Payload):
    tag: Name
    branch: Name


class EvidencePackGenerationFailed(Payload):
    release_tag: Name | None
    ref: str | None = None
    error: str | None = None


class EvidencePackGenerated(Payload):
    release_tag: Name | None
    ref: str | None = None


class TestResult(Payload):
    id: Name
    status: Name


class TestRunCompleted(Payload):
    run_id: Annotated[str | StrictInt, Field(union_mode="left_to_right")]
    branch: Name
    default_branch: StrictBool
    pull_request: Count | None = None
    status: Literal["passed", "failed"]
    tests: list[TestResult] = []


class StandardAmendmentPublished(Payload):
    standard: Name
    amendment: Name
    title: str | None = None
    url: str | None = None
    pinned: StrictBool = False


class Unknown(Payload):
    """The data of an event type rbtk has no rule for: kept as it came, routed to Slack/email."""


PAYLOADS: Mapping[str, type[Payload]] = {
    "runner_pool.offline": RunnerPoolOffline,
    "runner_pool.online": RunnerPoolOnline,
    "release.published": ReleasePublished,
    "evidence_pack.generation_failed": EvidencePackGenerationFailed,
    "evidence_pack.generated": EvidencePackGenerated,
    "test_run.completed": TestRunCompleted,
    "standard.amendment_published": StandardAmendmentPublished,
}


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=255)]
    type: Annotated[str, Field(min_length=1, max_length=255)]
    project_slug: Slug
    occurred_at: Timestamp


class Event(Envelope):
    # SerializeAsAny: dump the typed payload's own fields, not just the (empty) base class's.
    data: SerializeAsAny[Payload]


class EventError(ValueError):
    """An event that cannot be accepted; `errors` name each bad field and what was wrong."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _describe(error: Mapping[str, Any], prefix: str) -> str:
    path = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{path}: is required"
    if error["type"] == "extra_forbidden":
        return f"{path}: is not allowed"
    return f"{path}: {message}"


def parse_event(raw: object) -> Event:
    """Validate one raw (JSON-decoded) event; raise EventError naming every bad field."""
    if not isinstance(raw, Mapping):
        raise EventError([f"event: must be a JSON object, got {type(raw).__name__}"])
    errors: list[str] = []
    envelope = {k: raw[k] for k in ("id", "type", "project_slug", "occurred_at") if k in raw}
    flagged: set[str] = set()
    for name in ("id", "type"):
        if problem := _unstorable(envelope.get(name)):
            errors.append(f"{name}: {problem}")
            flagged.add(name)
    try:
        head = Envelope.model_validate(envelope)
    except ValidationError as exc:
        # A field refused above is named once, with the reason that says what to fix.
        named = {(field,) for field in flagged}
        errors.extend(_describe(e, "") for e in exc.errors() if e["loc"][:1] not in named)
        head = None
    data = raw.get("data")
    payload: Payload | None = None
    if not isinstance(data, Mapping):
        errors.append("data: is required" if data is None else "data: must be a JSON object")
    elif shape_errors := _shape_errors(data, "data", 1):
        errors.extend(shape_errors)
    else:
        event_type = raw.get("type")
        model = PAYLOADS.get(event_type, Unknown) if isinstance(event_type, str) else Unknown
        try:
            payload = model.model_validate(data)
        except ValidationError as exc:
            errors.extend(_describe(e, "data") for e in exc.errors())
    if errors or head is None or payload is None:
        raise EventError(errors)
    return Event(**dict(head), data=payload)


_NUL = "must not contain a NUL character"
_SURROGATE = "must not contain a lone surrogate (\\ud800-\\udfff): it is not Unicode text"
_SURROGATES = re.compile("[\ud800-\udfff]")


def _unstorable(value: object) -> str | None:
    """Why no database could store this string, and no body could carry it, if so."""
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return _NUL
    if _SURROGATES.search(value):
        return _SURROGATE
    return None


def _shape_errors(value: object, path: str, depth: int) -> list[str]:
    """What no database stores (NUL characters, lone surrogates) and what no code should
    recurse through (nesting deeper than MAX_DATA_DEPTH), named by field. Checked without
    recursion, so a payload nested thousands deep is refused, not a RecursionError."""
    errors: list[str] = []
    pending: list[tuple[object, str, int, str]] = [(value, path, depth, path)]
    while pending:
        item, where, level, field = pending.pop()
        if problem := _unstorable(item):
            errors.append(f"{where}: {problem}")
        elif isinstance(item, Mapping | list):
            if level > MAX_DATA_DEPTH:
                errors.append(f"{field}: nests deeper than {MAX_DATA_DEPTH} levels")
                continue
            pairs = item.items() if isinstance(item, Mapping) else enumerate(item)
            for key, child in reversed(list(pairs)):
                if problem := _unstorable(key):
                    errors.append(f"{where}: a key {problem}")
                    continue
                child_path = f"{where}.{key}"
                # Depth errors name the top-level field: a path thousands of parts long
                # would say less.
                pending.append((child, child_path, level + 1, child_path if level == 1 else field))
    return errors

"""Validate request bodies against PagerDuty's own OpenAPI schema for POST /enqueue.

The vendored schema (tests/data) lacks the limits PagerDuty documents elsewhere and its 400/429
responses point at components that do not exist, so only the request-body schema is used,
its local `#/components/...` references resolved through a `referencing` registry, and the
documented facts it lacks (lengths, what each action needs, no unknown fields) are added
alongside it with `allOf`.
"""

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "data" / "pagerduty-events-v2-openapiv3.json"
_URI = "urn:pagerduty:events-v2:openapiv3"
_ENQUEUE = "#/paths/~1enqueue/post/requestBody/content/application~1json/schema"

MAX_BODY_BYTES = 512_000
SEVERITIES = ["critical", "error", "warning", "info"]

# What PagerDuty's developer documentation says and the schema does not
# (/work/shared/reference/pagerduty-events-v2/README.md).
DOCUMENTED_LIMITS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "routing_key": {"type": "string", "minLength": 32, "maxLength": 32},
        "dedup_key": {"type": "string", "minLength": 1, "maxLength": 255},
        "event_action": {"enum": ["trigger", "acknowledge", "resolve"]},
        "payload": {
            "type": "object",
            "properties": {
                "summary": {"type": "string", "minLength": 1, "maxLength": 1024},
                "severity": {"enum": SEVERITIES},
                "source": {"type": "string", "minLength": 1},
            },
            "additionalProperties": False,
            "patternProperties": {
                "^(summary|timestamp|severity|source|component|group|class|custom_details)$": {}
            },
        },
        "links": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["href", "text"],
                "additionalProperties": False,
                "properties": {"href": {"type": "string"}, "text": {"type": "string"}},
            },
        },
    },
    "patternProperties": {
        "^(routing_key|event_action|dedup_key|payload|client|client_url|links|images)$": {}
    },
    "additionalProperties": False,
    "if": {"properties": {"event_action": {"const": "trigger"}}},
    "then": {
        "required": ["payload"],
        "properties": {"payload": {"required": ["summary", "source", "severity"]}},
    },
    "else": {
        "required": ["dedup_key"],
        "not": {"anyOf": [{"required": ["payload"]}, {"required": ["links"]}]},
    },
}

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII)


def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or _DATE_TIME.fullmatch(value) is not None


def _is_url(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


_formats = FormatChecker()
_formats.checks("date-time")(_is_date_time)
_formats.checks("url")(_is_url)


@cache
def validator() -> Any:
    document = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_URI, resource)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [{"$ref": _URI + _ENQUEUE}, DOCUMENTED_LIMITS],
    }
    return Draft202012Validator(schema, registry=registry, format_checker=_formats)


def problems(body: object) -> list[str]:
    """Every way `body` breaks PagerDuty's schema or documented limits; empty when valid."""
    found = [
        f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}"
        for e in validator().iter_errors(body)
    ]
    size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_BODY_BYTES:
        found.append(f"<body>: {size} bytes encoded, over {MAX_BODY_BYTES}")
    return sorted(found)

"""Reading JSON request bodies with a size limit and clear errors."""

import json
import re
from typing import Any, NoReturn

from fastapi import Request

from rbtk.api.errors import ApiError


async def read_json(request: Request, *, limit: int) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(
            415, f"send JSON with 'Content-Type: application/json', not {content_type!r}"
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body is over the {limit}-byte limit")
        chunks.append(chunk)
    return parse_json(b"".join(chunks))


# Deeper than any real request: an event's data may nest to events.MAX_DATA_DEPTH, and the
# events that go deeper are refused one by one, by name, keeping their siblings.
MAX_BODY_DEPTH = 64
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_TOO_DEEP = '"(nested too deep)"'


def parse_json(content: bytes) -> Any:
    """Strict JSON (no NaN or Infinity, which no database stores); a 400 saying why not."""
    try:
        return json.loads(content, parse_constant=_refuse_constant)
    except RecursionError:
        pass
    except ValueError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None
    # Nested past the parser's recursion limit: cut what is deeper than any request needs,
    # so the rest parses and only the event holding it is refused.
    try:
        text = content.decode()
        return json.loads(_cut_deep(text, MAX_BODY_DEPTH), parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON value")


def _cut_deep(text: str, limit: int) -> str:
    """Replace each array or object nested deeper than `limit` with a string."""
    parts: list[str] = []
    depth, kept_to, cut_from = 0, 0, -1
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            continue
        if token in "[{":
            depth += 1
            if depth == limit + 1:
                cut_from = match.start()
        else:
            if depth == limit + 1 and cut_from >= 0:
                parts += [text[kept_to:cut_from], _TOO_DEEP]
                kept_to, cut_from = match.end(), -1
            depth -= 1
    parts.append(text[kept_to:])
    return "".join(parts)

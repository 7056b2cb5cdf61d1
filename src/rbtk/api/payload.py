"""Reading JSON request bodies with a size limit and clear errors."""

import json
from typing import Any

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
    try:
        return json.loads(b"".join(chunks))
    except ValueError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None

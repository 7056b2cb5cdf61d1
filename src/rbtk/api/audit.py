"""The audit log: /api/v1/audit (admin tokens only).

GET /api/v1/audit?before_id=&limit=&action=&target=
    200 {"entries": [Entry], "next_before_id"}: newest first; `next_before_id` fetches
    the next, older page (null at the end). `action` is one (`connector.update`) or a
    family (`connector`); `target` is exact (`pd-production`, `window #3`)

Entry  {"id", "at", "actor" (the token's name, or "cli (local: USER)"), "action",
        "target", "before", "after" (the state, secrets masked; null when it did not or
        no longer exists), "changes": [{"field", "before", "after"}]}
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from rbtk.admin import audit
from rbtk.api.deps import Admin, Ctx
from rbtk.api.schema import BeforeId, errors
from rbtk.runtime.timefmt import format_rfc3339

router = APIRouter(
    prefix="/api/v1", tags=["audit"], dependencies=[Admin], responses=errors(400, 401, 403, 422)
)


class ChangeOut(BaseModel):
    field: str
    before: Any
    after: Any


class EntryOut(BaseModel):
    id: int
    at: str
    actor: str = Field(description="the name of the token that made the change")
    action: str = Field(description="what was changed, then how: connector.update")
    target: str
    before: dict[str, Any] | None = Field(description="null: it did not exist")
    after: dict[str, Any] | None = Field(description="null: it no longer exists")
    changes: list[ChangeOut] = Field(description="the fields that differ")


class EntriesOut(BaseModel):
    entries: list[EntryOut]
    next_before_id: int | None = Field(description="pass as before_id for the next page")


@router.get("/audit", response_model=EntriesOut)
def list_entries(
    context: Ctx,
    before_id: BeforeId = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_LIMIT)] = audit.DEFAULT_LIMIT,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    with context.reads.connect() as connection:
        page = audit.list_entries(
            connection, before_id=before_id, limit=limit, action=action, target=target
        )
    return {
        "entries": [entry_json(entry) for entry in page.entries],
        "next_before_id": page.next_before_id,
    }


def entry_json(entry: audit.Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": format_rfc3339(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
        "changes": [
            {"field": c.field, "before": c.before, "after": c.after} for c in entry.changes
        ],
    }

"""Integrations → PagerDuty → Storms: each storm, and every member it held.

    GET /settings/integrations/pagerduty/storms                  the newest storms
    GET /settings/integrations/pagerduty/storms/{id}?after_id=   one storm and its members

A storm's umbrella incident links to its page (`rbtk.outbox.storms.umbrella`), so an on-call can
see every pool behind it.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rbtk.api.deps import Ctx
from rbtk.outbox.storms import history
from rbtk.outbox.storms.umbrella import STORMS_PAGE
from rbtk.web.auth import SignedIn
from rbtk.web.render import page

PAGE_SIZE = 200

router = APIRouter(prefix=STORMS_PAGE, dependencies=[SignedIn], include_in_schema=False)


@router.get("")
def storms_page(request: Request, context: Ctx) -> Response:
    with context.reads.connect() as connection:
        storms = history.list_storms(connection)
    return page(request, "storms.html", title="Storms", storms=storms)


@router.get("/{storm_id}")
def storm_page(request: Request, storm_id: int, context: Ctx, after_id: int = 0) -> Response:
    with context.reads.connect() as connection:
        try:
            storm = history.get_storm(connection, storm_id)
        except history.UnknownStorm:
            return page(
                request,
                "not_found.html",
                status_code=404,
                title="No such storm",
                message=f"There is no storm #{storm_id}.",
            )
        found = history.members(connection, storm, after=after_id or None, limit=PAGE_SIZE + 1)
    members = found[:PAGE_SIZE]
    return page(
        request,
        "storm.html",
        title=f"Storm #{storm.id} on {storm.connector}",
        storm=storm,
        members=members,
        after_id=after_id,
        next_after_id=members[-1].row_id if len(found) > PAGE_SIZE else None,
    )

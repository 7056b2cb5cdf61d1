"""Integrations → PagerDuty → Events: what rbtk received, whether each event paged, and why
not where it did not.

    GET /settings/integrations/pagerduty/events?project=&type=&paged=&before=
    GET /settings/integrations/pagerduty/events/{id}

The same reads as `GET /api/v1/events[/{id}]` (`rbtk.admin.event_log`).
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from rbtk.admin import event_log
from rbtk.api.deps import Ctx
from rbtk.channels import registry
from rbtk.policy.events import PAYLOADS
from rbtk.runtime.timefmt import parse_rfc3339
from rbtk.web.auth import SignedIn
from rbtk.web.pages.connectors import PREFIX as PAGERDUTY
from rbtk.web.pages.incidents import until
from rbtk.web.render import page

PREFIX = f"{PAGERDUTY}/events"
PAGE_SIZE = 50
_PAGED = {"yes": True, "no": False}

router = APIRouter(prefix=PREFIX, dependencies=[SignedIn], include_in_schema=False)


@router.get("")
def events_page(
    request: Request,
    context: Ctx,
    project: str = "",
    event_type: Annotated[str, Query(alias="type")] = "",
    paged: str = "",
    before: str = "",
) -> Response:
    with context.reads.connect() as connection:
        try:
            found = event_log.list_events(
                connection,
                project=project.strip() or None,
                event_type=event_type.strip() or None,
                paged=_PAGED.get(paged),
                before=before or None,
                limit=PAGE_SIZE + 1,
            )
        except event_log.UnknownEvent:  # pruned since the link was made: start again
            found = []
    rows = found[:PAGE_SIZE]
    return page(
        request,
        "events.html",
        title="Events",
        rows=rows,
        filters={"project": project, "type": event_type, "paged": paged if paged in _PAGED else ""},
        types=sorted(PAYLOADS),
        before=before,
        next_before=rows[-1].id if len(found) > PAGE_SIZE else None,
    )


@router.get("/{event_id:path}")
def event_page(request: Request, context: Ctx, event_id: str) -> Response:
    now = datetime.now(UTC)
    with context.reads.connect() as connection:
        try:
            detail = event_log.get(
                connection, event_id, rates=registry.rates(context.settings), now=now
            )
        except event_log.UnknownEvent:
            return page(
                request,
                "not_found.html",
                status_code=404,
                title="No such event",
                message=f"No event has id {event_id!r}: it was never received, or is older "
                "than the retention and was pruned.",
            )
    return page(
        request,
        "event.html",
        title=f"Event {detail.event.id}",
        detail=detail,
        now=now,
        until=until,
        moment=parse_rfc3339,
    )

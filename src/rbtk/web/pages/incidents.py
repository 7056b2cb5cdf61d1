"""Integrations → PagerDuty → Incidents: what is firing, pending and held; resolve by hand;
the oldest page not yet delivered (read as the stuck banner reads it:
`rbtk.outbox.log.undelivered`).

    GET  /settings/integrations/pagerduty/incidents?state=&after=
    POST /settings/integrations/pagerduty/incidents/resolve      dedup_key

Resolving goes through `incidents.resolve`, as the API's does, recording who signed in.
"""

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from rbtk.admin import incidents
from rbtk.admin.incidents import Filter
from rbtk.api.deps import Ctx
from rbtk.outbox.log import activity, undelivered
from rbtk.runtime.timefmt import span
from rbtk.web.auth import Csrf, SignedIn, operator
from rbtk.web.chart import chart
from rbtk.web.pages.connectors import PREFIX as PAGERDUTY
from rbtk.web.render import form_text, page
from rbtk.web.session import flash

PREFIX = f"{PAGERDUTY}/incidents"
PAGE_SIZE = 100

router = APIRouter(prefix=PREFIX, dependencies=[SignedIn], include_in_schema=False)


@router.get("")
def incidents_page(request: Request, context: Ctx, state: str = "", after: str = "") -> Response:
    show = Filter(state) if state in Filter.__members__.values() else Filter.FIRING
    now = datetime.now(UTC)
    with context.reads.connect() as connection:
        found = incidents.list_incidents(
            connection, show=show, after=after or None, limit=PAGE_SIZE + 1, now=now
        )
        hours = activity.last_day(connection, now=now)
        oldest = undelivered.oldest(connection)
    rows = found[:PAGE_SIZE]
    return page(
        request,
        "incidents.html",
        title="Incidents",
        rows=rows,
        show=show.value,
        filters=[f.value for f in Filter],
        after=after,
        next_after=rows[-1].dedup_key if len(found) > PAGE_SIZE else None,
        now=now,
        until=until,
        activity=chart(hours),
        undelivered=oldest,
        undelivered_age=None if oldest is None else span(oldest.age_s(now)),
    )


@router.post("/resolve", dependencies=[Csrf])
async def resolve(request: Request, context: Ctx) -> Response:
    form = await request.form()
    key = form_text(form, "dedup_key")
    try:
        with context.engine.begin() as connection:
            resolved = incidents.resolve(
                connection,
                dedup_key=key,
                by=operator(request),
                settings=context.settings,
                config=context.snapshots.read(connection),
                now=datetime.now(UTC),
            )
    except incidents.UnknownIncident:
        flash(request, "error", f"{key} is not firing or pending any more: nothing to resolve.")
        return RedirectResponse(PREFIX, 303)
    if resolved.resolves:
        context.wake_delivery()
    sent = resolved.resolves
    where = f"its resolve is on its way to {sent} connector{'s' if sent != 1 else ''}"
    flash(request, "success", f"Resolved {key}: {where if sent else 'it had paged nobody'}.")
    return RedirectResponse(PREFIX, 303)


def until(moment: datetime, now: datetime) -> str:
    """How long until `moment`, as a countdown reads ("in 8 min", "now")."""
    left = moment - now
    if left <= timedelta(0):
        return "now"
    minutes = int(left.total_seconds() // 60)
    return f"in {minutes} min" if minutes else f"in {int(left.total_seconds())} s"

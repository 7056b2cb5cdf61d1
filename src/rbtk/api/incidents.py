"""What is firing, pending and held: /api/v1/incidents[/resolve] (admin tokens only).

    GET  /incidents?state=&connector=&project=&rule=&after=&limit=
                               200 {"incidents": [Incident], "next_after"}: in dedup-key
                               order; `state` firing (default), pending, held or all;
                               `next_after` fetches the next page (null on the last)
    POST /incidents/resolve    {"dedup_key"} → 200 {"incident", "resolves", "event_id"};
                               404 when nothing is firing or pending with that key

    Incident  {"dedup_key", "project", "kind", "rule", "severity", "state": firing|pending,
               "since", "pages_at" (pending: when its threshold passes), "summary",
               "connectors": [{"connector", "state", "severity",
                               "pagerduty": {"status", "by", "at"} | null}]}

A connector's `pagerduty` is PagerDuty's side as its webhooks last told it: triggered,
acknowledged or resolved, by whom (null: PagerDuty's automation), when; null until one did.

A connector's `state` is sent, queued, retrying, failed, "held by suppression #N", "held by
storm #N" or "resolved in PagerDuty by hand" (reconcile found it so while it still fires).
Resolving by hand sends the resolve wherever the trigger went and records who in an event of
type `rbtk.resolved_by_hand`.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from rbtk.admin import incidents
from rbtk.admin.incidents import MAX_LIMIT, Filter, IncidentView
from rbtk.api.deps import Admin, CallerName, Ctx
from rbtk.api.schema import Body, errors
from rbtk.runtime.timefmt import format_rfc3339

router = APIRouter(
    prefix="/api/v1",
    tags=["incidents"],
    dependencies=[Admin],
    responses=errors(400, 401, 403, 422),
)


class PagerDutySideOut(BaseModel):
    status: Literal["triggered", "acknowledged", "resolved"]
    by: str | None = Field(description="who: the agent's name; null when automation did it")
    at: str


class LaneOut(BaseModel):
    connector: str
    state: str
    severity: str | None
    resolved_in_pagerduty_at: str | None = Field(
        description="when reconcile found it resolved by hand in PagerDuty, still firing here"
    )
    storm_id: int | None = Field(description="the storm holding it back")
    pagerduty: PagerDutySideOut | None = Field(
        description="PagerDuty's side, as its webhooks last told it; null until one did"
    )


class IncidentOut(BaseModel):
    dedup_key: str
    project: str
    kind: str
    rule: str | None
    severity: str | None
    state: Literal["firing", "not paged", "pending"]
    paged: bool = Field(description="whether a connector took its page: sent, on its way or held")
    not_paged: str | None = Field(
        description="not paged: why, as recorded with the event that started it"
    )
    since: str
    pages_at: str | None
    summary: str
    connectors: list[LaneOut]
    storm_id: int | None = Field(
        description="kind storm: the storm this umbrella pages for (its members: "
        "GET /api/v1/pagerduty/storms/{id})"
    )


class IncidentsOut(BaseModel):
    incidents: list[IncidentOut]
    next_after: str | None


class ResolveIn(Body):
    dedup_key: str = Field(min_length=1, max_length=255)


class ResolvedOut(BaseModel):
    incident: IncidentOut
    resolves: int
    event_id: str


@router.get("/incidents", response_model=IncidentsOut)
def list_incidents(
    context: Ctx,
    state: Filter = Filter.FIRING,
    connector: Annotated[str | None, Query(max_length=64)] = None,
    project: Annotated[str | None, Query(max_length=128)] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    with context.reads.connect() as connection:
        found = incidents.list_incidents(
            connection,
            show=state,
            connector=connector,
            project=project,
            rule=rule,
            after=after,
            limit=limit + 1,
            now=datetime.now(UTC),
        )
    page = found[:limit]
    return {
        "incidents": [incident_json(view) for view in page],
        "next_after": page[-1].dedup_key if len(found) > limit else None,
    }


@router.post("/incidents/resolve", response_model=ResolvedOut, responses=errors(404))
def resolve_incident(request: ResolveIn, context: Ctx, caller: CallerName) -> dict[str, Any]:
    with context.engine.begin() as connection:
        resolved = incidents.resolve(
            connection,
            dedup_key=request.dedup_key,
            by=caller,
            settings=context.settings,
            config=context.snapshots.read(connection),
            now=datetime.now(UTC),
        )
    if resolved.resolves:
        context.wake_delivery()
    return {
        "incident": incident_json(resolved.incident),
        "resolves": resolved.resolves,
        "event_id": resolved.event_id,
    }


def incident_json(view: IncidentView) -> dict[str, Any]:
    return {
        "dedup_key": view.dedup_key,
        "project": view.project,
        "kind": view.kind,
        "rule": view.rule,
        "severity": view.severity,
        "state": view.state,
        "paged": view.paged,
        "not_paged": view.not_paged,
        "since": format_rfc3339(view.since),
        "pages_at": None if view.pages_at is None else format_rfc3339(view.pages_at),
        "summary": view.summary,
        "connectors": [
            {
                "connector": lane.connector,
                "state": lane.state,
                "severity": lane.severity,
                "resolved_in_pagerduty_at": None
                if lane.resolved_in_pagerduty_at is None
                else format_rfc3339(lane.resolved_in_pagerduty_at),
                "storm_id": lane.storm_id,
                "pagerduty": None
                if lane.pagerduty is None
                else {
                    "status": lane.pagerduty.status,
                    "by": lane.pagerduty.by,
                    "at": format_rfc3339(lane.pagerduty.at),
                },
            }
            for lane in view.lanes
        ],
        "storm_id": view.storm_id,
    }

"""PagerDuty routing rules: /api/v1/pagerduty/routing[/explain] (admin tokens only).

GET  /routing          200 Routing
PUT  /routing          200 Routing, the list saved as given; 422 naming every problem
                       (unknown connectors, a rule matching everything, duplicate
                       positions, no connectors): nothing is changed
POST /routing/explain  200 Explanation of one event (`id` and `occurred_at` may be left
                       out); 422 a bad event. Nothing is sent.

Routing      {"rules": [Rule], "defaults": [names of the connectors marked default]}
Rule         {"position", "project", "event_type", "connectors": [names]}; a null
             project or event type matches every one
Explanation  {"event": {"project", "event_type"}, "rule": Rule | null,
              "connectors": [names routed to], "reason": "...", "missing": [names],
              "pages": [{"connector", "rule", "enabled", "severity", "capped_from",
                         "sent" (the event pages this connector now: exactly what fan-out
                         then queues for it, held or not), "paged_at" (what the open
                         incident was paged at there),
                         "held" (the window or storm that would hold the page back),
                         "policy": {"answer": pages|pending|no, "reason", "at"},
                         "note"}],
              "notice": "unknown event type ...: did you mean ...?" | null}
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from rbtk.admin import routing
from rbtk.api.deps import Admin, CallerName, Ctx
from rbtk.api.errors import ApiError
from rbtk.api.payload import read_json
from rbtk.api.schema import (
    MATCHER,
    TARGETS,
    Body,
    Matcher,
    Position,
    declared,
    errors,
    event_schema,
    json_body,
)
from rbtk.outbox.fanout.explain import Explanation, explain_event
from rbtk.policy.events import PAYLOADS, EventError, parse_event
from rbtk.routing import pagerduty
from rbtk.routing.ordered_rules import unknown_type_notice
from rbtk.routing.pagerduty import RouteRule
from rbtk.runtime.timefmt import format_rfc3339

router = APIRouter(
    prefix="/api/v1/pagerduty",
    tags=["routing"],
    dependencies=[Admin],
    responses=errors(400, 401, 403, 422),
)

MAX_RULES = 1000


# Only the known types can page: a rule names one of them, or a glob.
EVENT_TYPE = declared(**MATCHER, anyOf=[{"enum": sorted(PAYLOADS)}, {"pattern": "[*?[]"}])


class RuleIn(Body):
    # A rule with neither a project nor an event type would take every event from the
    # default connectors: one of the two is required.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [field], "properties": {field: {"type": "string"}}}
                for field in ("project", "event_type")
            ]
        }
    )

    position: Position
    project: Matcher | None = None
    event_type: Annotated[str, EVENT_TYPE] | None = None
    connectors: Annotated[list[str], TARGETS]


class RoutingIn(Body):
    rules: list[RuleIn] = Field(max_length=MAX_RULES)


class RuleOut(BaseModel):
    position: int
    project: str | None
    event_type: str | None
    connectors: list[str]


class RoutingOut(BaseModel):
    rules: list[RuleOut]
    defaults: list[str] = Field(description="the connectors marked default")


class EventOut(BaseModel):
    project: str
    event_type: str


class PolicyOut(BaseModel):
    answer: Literal["pages", "pending", "no"]
    reason: str
    at: str | None


class PageOut(BaseModel):
    connector: str
    rule: str
    enabled: bool
    severity: str
    capped_from: str | None
    sent: bool = Field(description="the event pages this connector now (sent, or held back)")
    paged_at: str | None = Field(default=None, description="what its open incident was paged at")
    held: str | None = Field(default=None, description="what would hold the page back")
    policy: PolicyOut
    note: str | None


class ExplanationOut(BaseModel):
    event: EventOut
    rule: RuleOut | None
    connectors: list[str]
    reason: str
    missing: list[str]
    pages: list[PageOut]
    notice: str | None = Field(
        description="a type rbtk does not know, which no rule pages, with the closest known one"
    )


@router.get("/routing", response_model=RoutingOut)
def get_routing(context: Ctx) -> dict[str, Any]:
    with context.reads.connect() as connection:
        return _routing(pagerduty.load_rules(connection), routing.default_names(connection))


@router.put("/routing", response_model=RoutingOut)
def put_routing(request: RoutingIn, context: Ctx, caller: CallerName) -> dict[str, Any]:
    rules = [RouteRule.from_json(r.model_dump()) for r in request.rules]
    with context.engine.begin() as connection:
        saved = routing.replace_rules(connection, rules, by=caller, now=datetime.now(UTC))
        return _routing(saved, routing.default_names(connection))


@router.post(
    "/routing/explain",
    response_model=ExplanationOut,
    responses=errors(400, 413, 415),
    openapi_extra=json_body(event_schema(required=["type", "project_slug", "data"])),
)
async def explain(request: Request, context: Ctx) -> dict[str, Any]:
    raw = await read_json(request, limit=context.settings.max_request_bytes)
    if not isinstance(raw, dict):
        raise ApiError(422, "send one event as a JSON object")
    stand_ins = {"id": "explain", "occurred_at": format_rfc3339(datetime.now(UTC))}
    try:
        event = parse_event({**stand_ins, **raw})
    except EventError as exc:
        raise ApiError(422, f"event is invalid: {exc}", exc.errors) from None
    with context.reads.connect() as connection:
        explanation = explain_event(
            connection, event, settings=context.settings, now=datetime.now(UTC)
        )
    return _explanation(explanation, event.project_slug, event.type)


def _routing(rules: list[RouteRule], defaults: list[str]) -> dict[str, Any]:
    return {"rules": [r.as_json() for r in rules], "defaults": defaults}


def _explanation(explanation: Explanation, project: str, event_type: str) -> dict[str, Any]:
    decision = explanation.decision
    return {
        "event": {"project": project, "event_type": event_type},
        "rule": None if decision.rule is None else decision.rule.as_json(),
        "connectors": [t.name for t in decision.targets],
        "reason": explanation.reason,
        "missing": explanation.missing,
        "notice": unknown_type_notice(event_type, PAYLOADS),
        "pages": [
            {
                "connector": check.connector,
                "rule": check.rule.value,
                "enabled": check.enabled,
                "severity": check.severity.value,
                "capped_from": None if check.capped_from is None else check.capped_from.value,
                "sent": check.sent,
                "paged_at": None if check.paged_at is None else check.paged_at.value,
                "held": check.held,
                "policy": {
                    "answer": check.policy.finding.value,
                    "reason": check.policy.reason,
                    "at": None if check.policy.at is None else format_rfc3339(check.policy.at),
                },
                "note": check.note,
            }
            for check in explanation.checks
        ],
    }

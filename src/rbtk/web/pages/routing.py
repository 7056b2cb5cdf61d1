"""Integrations → PagerDuty → Routing: ordered rules, default connectors, "who gets this?".

    GET  /settings/integrations/pagerduty/routing?edit=&project=&event_type=&airgapped=
    POST /settings/integrations/pagerduty/routing/rules                     add a rule
    POST /settings/integrations/pagerduty/routing/rules/{position}          edit it
    POST /settings/integrations/pagerduty/routing/rules/{position}/move     to=
    POST /settings/integrations/pagerduty/routing/rules/{position}/remove
    POST /settings/integrations/pagerduty/routing/defaults                  default connectors

Every write goes through `routing.replace_rules` (or `connectors.update` for the default
flags), the same functions the API's PUT /routing uses.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from rbtk import connectors, routing
from rbtk.api.deps import Ctx
from rbtk.context import Context
from rbtk.events import PAYLOADS, EventError, parse_event
from rbtk.routing import Explanation, RouteRule
from rbtk.web.auth import Csrf, SignedIn
from rbtk.web.labels import say
from rbtk.web.pages.connectors import PREFIX as PAGERDUTY
from rbtk.web.pages.ordered import RuleFields, added, edited, removed, shifted
from rbtk.web.render import form_list, form_text, page
from rbtk.web.session import flash

PREFIX = f"{PAGERDUTY}/routing"

router = APIRouter(prefix=PREFIX, dependencies=[SignedIn], include_in_schema=False)

# A representative event of each type, for "which connector gets this?": enough data for the
# rules that can page (a failed run on the default branch, a pinned standard, on a release).
_STAND_IN_DATA: dict[str, dict[str, Any]] = {
    "runner_pool.offline": {"pool_name": "example-pool"},
    "runner_pool.online": {"pool_name": "example-pool"},
    "release.published": {"tag": "v0.0.0", "branch": "main"},
    "evidence_pack.generation_failed": {"release_tag": "v0.0.0"},
    "evidence_pack.generated": {"release_tag": "v0.0.0"},
    "test_run.completed": {
        "run_id": "example",
        "branch": "main",
        "default_branch": True,
        "pull_request": None,
        "status": "failed",
    },
    "standard.amendment_published": {"standard": "example", "amendment": "1", "pinned": True},
}


@router.get("")
def routing_page(
    request: Request,
    context: Ctx,
    edit: int | None = None,
    project: str | None = None,
    event_type: str | None = None,
    airgapped: str | None = None,
) -> Response:
    asked = None
    if project is not None or event_type is not None:
        asked = {
            "project": (project or "").strip(),
            "event_type": (event_type or "").strip(),
            "airgapped": airgapped == "on",
        }
    return _page(request, context, edit=edit, asked=asked)


@router.post("/rules", dependencies=[Csrf])
async def add_rule(request: Request, context: Ctx) -> Response:
    fields = RuleFields.read(await request.form(), "connectors")
    rule = RouteRule(0, fields.project, fields.event_type, fields.names)
    return _save(
        request,
        context,
        lambda rules: added(rules, rule, fields.position),
        done="Rule added.",
        add_form=fields.shown(),
    )


@router.post("/rules/{position}", dependencies=[Csrf])
async def edit_rule(request: Request, position: int, context: Ctx) -> Response:
    fields = RuleFields.read(await request.form(), "connectors")
    return _save(
        request,
        context,
        lambda rules: edited(
            rules,
            position,
            project=fields.project,
            event_type=fields.event_type,
            connectors=fields.names,
        ),
        done=f"Rule {position} saved.",
        edit=position,
        edit_form=fields.shown(),
    )


@router.post("/rules/{position}/move", dependencies=[Csrf])
async def move_rule(request: Request, position: int, context: Ctx) -> Response:
    to = form_text(await request.form(), "to")
    target = int(to) if to.isdigit() else 0
    return _save(
        request,
        context,
        lambda rules: shifted(rules, position, target),
        done=f"Rule {position} moved to position {target}.",
    )


@router.post("/rules/{position}/remove", dependencies=[Csrf])
def remove_rule(request: Request, position: int, context: Ctx) -> Response:
    return _save(
        request, context, lambda rules: removed(rules, position), done=f"Rule {position} removed."
    )


@router.post("/defaults", dependencies=[Csrf])
async def save_defaults(request: Request, context: Ctx) -> Response:
    chosen = set(form_list(await request.form(), "defaults"))
    now = datetime.now(UTC)
    with context.engine.begin() as connection:
        changed = [
            connectors.update(
                connection,
                vault=context.vault,
                name=view.name,
                is_default=view.name in chosen,
                now=now,
            )
            for view in connectors.list_all(connection)
            if view.is_default != (view.name in chosen)
        ]
    if not changed:
        flash(request, "success", "The default connectors are unchanged.")
    else:
        names = ", ".join(sorted(chosen)) or "none"
        flash(request, "success", f"Default connectors saved: {names}.")
    return RedirectResponse(PREFIX + "#defaults", 303)


Change = Callable[[list[RouteRule]], list[RouteRule]]


def _save(
    request: Request,
    context: Context,
    change: Change,
    *,
    done: str,
    edit: int | None = None,
    add_form: dict[str, Any] | None = None,
    edit_form: dict[str, Any] | None = None,
) -> Response:
    try:
        with context.engine.begin() as connection:
            rules = routing.load_rules(connection)
            routing.replace_rules(connection, change(rules), now=datetime.now(UTC))
    except routing.InvalidRouting as exc:
        errors = [say(e) for e in exc.errors]
    except routing.NoSuchPosition as exc:
        errors = [say(exc)]
    else:
        flash(request, "success", done)
        return RedirectResponse(PREFIX, 303)
    return _page(
        request,
        context,
        edit=edit,
        errors=errors,
        add_form=add_form,
        edit_form=edit_form,
        status_code=422,
    )


def _page(
    request: Request,
    context: Context,
    *,
    edit: int | None = None,
    asked: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    add_form: dict[str, Any] | None = None,
    edit_form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    with context.engine.connect() as connection:
        rules = routing.load_rules(connection)
        views = connectors.list_all(connection)
        explanation, problem = _explained(connection, asked) if asked else (None, None)
    return page(
        request,
        "routing.html",
        status_code=status_code,
        title="Routing",
        rules=rules,
        connectors=views,
        defaults=[view.name for view in views if view.is_default],
        edit=edit,
        edit_form=edit_form,
        add_form=add_form or {"project": "", "event_type": "", "names": [], "position": None},
        errors=errors or [],
        event_types=sorted(PAYLOADS),
        asked=asked,
        explanation=explanation,
        problem=problem,
    )


def _explained(
    connection: Connection, asked: dict[str, Any]
) -> tuple[Explanation | None, str | None]:
    if not asked["project"] or not asked["event_type"]:
        return None, "Give both a project and an event type."
    data = dict(_STAND_IN_DATA.get(asked["event_type"], {}))
    if asked["event_type"] == "runner_pool.offline":
        data["airgapped"] = asked["airgapped"]
    try:
        event = parse_event(
            {
                "id": "explain",
                "type": asked["event_type"],
                "project_slug": asked["project"],
                "occurred_at": datetime.now(UTC).isoformat(),
                "data": data,
            }
        )
    except EventError as exc:
        return None, say(exc)
    return routing.explain(connection, event), None

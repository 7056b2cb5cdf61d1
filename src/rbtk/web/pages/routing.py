"""Integrations → PagerDuty → Routing: ordered rules, default connectors, "who gets this?".

    GET  /settings/integrations/pagerduty/routing?edit=&project=&event_type=&airgapped=
    POST /settings/integrations/pagerduty/routing/rules                     add a rule
    POST /settings/integrations/pagerduty/routing/rules/{position}          edit it
    POST /settings/integrations/pagerduty/routing/rules/{position}/move     to=
    POST /settings/integrations/pagerduty/routing/rules/{position}/remove
    POST /settings/integrations/pagerduty/routing/defaults                  default connectors
    POST /settings/integrations/pagerduty/routing/runbooks/{rule}           url=, or remove=

Every write goes through `routing.replace_rules` (or `connectors.update` for the default
flags, `runbooks.set_url` / `unset` for a rule's runbook), the same functions the API uses.
"""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from rbtk.admin import connectors, routing, runbooks
from rbtk.api.deps import Ctx
from rbtk.context import Context
from rbtk.outbox.fanout.explain import Explanation, explain_event
from rbtk.policy.events import PAYLOADS, EventError, parse_event
from rbtk.policy.rules import Rule
from rbtk.routing import pagerduty
from rbtk.routing.ordered_rules import unknown_type_notice
from rbtk.routing.pagerduty import RouteRule
from rbtk.runtime.settings import Settings
from rbtk.web.auth import Csrf, SignedIn, operator
from rbtk.web.labels import rule_title, say
from rbtk.web.pages.connectors import PREFIX as PAGERDUTY
from rbtk.web.pages.ordered import Change, rule_routes, save_errors
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
        "tests": [{"id": "example", "status": "failed"}],
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
                changes={"is_default": view.name in chosen},
                by=operator(request),
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


@router.post("/runbooks/{rule}", dependencies=[Csrf])
async def save_runbook(request: Request, rule: str, context: Ctx) -> Response:
    form = await request.form()
    url = form_text(form, "url").strip()
    remove = form_text(form, "remove") == "1" or not url
    now = datetime.now(UTC)
    try:
        with context.engine.begin() as connection:
            if remove:
                runbooks.unset(connection, rule=rule, by=operator(request), now=now)
            else:
                runbooks.set_url(connection, rule=rule, url=url, by=operator(request), now=now)
    except runbooks.NoRunbook:
        flash(request, "success", f"{rule} has no runbook.")
    except runbooks.InvalidRunbook as exc:
        return _page(
            request,
            context,
            runbook_form={rule: url},
            runbook_errors={rule: say(exc)},
            status_code=422,
        )
    else:
        said = "removed" if remove else f"saved: its new incidents link to {url}"
        flash(request, "success", f"Runbook of {rule} {said}.")
    return RedirectResponse(PREFIX + "#runbooks", 303)


def _save(
    request: Request,
    context: Context,
    change: Change[RouteRule],
    *,
    done: str,
    edit: int | None = None,
    add_form: dict[str, Any] | None = None,
    edit_form: dict[str, Any] | None = None,
) -> Response:
    errors = save_errors(
        context, change, pagerduty.load_rules, routing.replace_rules, by=operator(request)
    )
    if not errors:
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


rule_routes(router, RouteRule, _save)


def _page(
    request: Request,
    context: Context,
    *,
    edit: int | None = None,
    asked: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    add_form: dict[str, Any] | None = None,
    edit_form: dict[str, Any] | None = None,
    runbook_form: dict[str, str] | None = None,
    runbook_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with context.reads.connect() as connection:
        rules = pagerduty.load_rules(connection)
        views = connectors.list_all(connection)
        urls = runbooks.get_all(connection)
        explanation, problem = (
            _explained(connection, asked, context.settings) if asked else (None, None)
        )
    notice = unknown_type_notice(asked["event_type"], PAYLOADS) if asked and explanation else None
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
        notice=notice,
        problem=problem,
        runbooks=[
            (rule.value, rule_title(rule), (runbook_form or {}).get(rule.value, urls.get(rule, "")))
            for rule in Rule
        ],
        saved_runbooks={rule.value for rule in urls},
        runbook_errors=runbook_errors or {},
    )


def _explained(
    connection: Connection, asked: dict[str, Any], settings: Settings
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
    return explain_event(connection, event, settings=settings, now=datetime.now(UTC)), None

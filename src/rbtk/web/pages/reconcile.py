"""A connector's page, "Reconcile with PagerDuty": its REST API key and service, a pass on
demand (the button), the last passes, and one-click resolve of an incident rbtk does not know.

    POST /settings/integrations/pagerduty/connectors/{name}/reconcile/settings
    POST /settings/integrations/pagerduty/connectors/{name}/reconcile           run a pass
    POST /settings/integrations/pagerduty/connectors/{name}/reconcile/resolve   {dedup_key}
    POST /settings/integrations/pagerduty/connectors/{name}/check       PagerDuty service health

The REST API key is written, never shown again but masked; an empty field keeps the one
stored.
"""

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from rbtk.admin import connectors
from rbtk.admin.connector_settings import InvalidConnector
from rbtk.admin.connectors import KEEP
from rbtk.api.deps import Ctx
from rbtk.reconcile import checks, passes
from rbtk.reconcile.summary import Summary
from rbtk.web.auth import Csrf, SignedIn, operator
from rbtk.web.form_errors import form_errors
from rbtk.web.labels import say
from rbtk.web.pages.connectors import PREFIX, connector_url, show_connector
from rbtk.web.render import form_text, settings_given
from rbtk.web.session import flash

router = APIRouter(prefix=PREFIX, dependencies=[SignedIn], include_in_schema=False)
SECTION = "#reconcile"


@router.post("/connectors/{name}/reconcile/settings", dependencies=[Csrf])
async def save_settings(request: Request, name: str, context: Ctx) -> Response:
    form = await request.form()
    key = form_text(form, "rest_key")
    forget = form_text(form, "forget_rest_key") == "on"
    service_id = form_text(form, "service_id")
    try:
        with context.engine.begin() as connection:
            view = connectors.update(
                connection,
                vault=context.vault,
                name=name,
                changes=settings_given(form),
                rest_key=None if forget else (key or KEEP),
                by=operator(request),
                now=datetime.now(UTC),
            )
    except InvalidConnector as exc:
        flash(request, "error", say(exc))
        errors = form_errors(exc, default="reconcile")
        return show_connector(
            request, context, name, errors=errors, typed={"service_id": service_id}
        )
    except connectors.UnknownConnector as exc:
        flash(request, "error", say(exc))
        return RedirectResponse(PREFIX, 303)
    ready = view.rest_key_masked and view.service_id
    flash(
        request,
        "success",
        f"Saved reconcile settings of {name}."
        + (" rbtk now compares its incidents with PagerDuty's." if ready else ""),
    )
    return RedirectResponse(connector_url(name) + SECTION, 303)


@router.post("/connectors/{name}/reconcile", dependencies=[Csrf])
async def run(request: Request, name: str, context: Ctx) -> Response:
    form = await request.form()
    dry_run = form_text(form, "dry_run") == "on"
    try:
        summary = await run_in_threadpool(
            passes.reconcile, context, connector=name, dry_run=dry_run
        )
    except passes.NotConfigured as exc:
        flash(request, "error", say(exc))
        return RedirectResponse(connector_url(name) + SECTION, 303)
    if summary.error:
        flash(request, "error", f"Reconcile could not read PagerDuty: {summary.error}.")
    else:
        flash(request, "success", f"Reconciled {name}: {said(summary)}.")
    return RedirectResponse(connector_url(name) + SECTION, 303)


@router.post("/connectors/{name}/reconcile/resolve", dependencies=[Csrf])
async def resolve(request: Request, name: str, context: Ctx) -> Response:
    form = await request.form()
    key = form_text(form, "dedup_key")
    try:
        delivery_id = passes.resolve_unknown(context, connector=name, dedup_key=key)
    except passes.UnknownIncident as exc:
        flash(request, "error", say(exc))
    else:
        flash(request, "success", f"Resolve of {key} queued (delivery #{delivery_id}).")
    return RedirectResponse(connector_url(name) + SECTION, 303)


@router.post("/connectors/{name}/check", dependencies=[Csrf])
async def check(request: Request, name: str, context: Ctx) -> Response:
    """The checks run, their answer shown once on the connector's page (and its urgency
    table then says what the service really does)."""
    try:
        health = await run_in_threadpool(
            checks.check, context, connector=name, now=datetime.now(UTC)
        )
    except connectors.UnknownConnector as exc:
        flash(request, "error", say(exc))
        return RedirectResponse(PREFIX, 303)
    request.session["service_health"] = health.to_json()
    return RedirectResponse(connector_url(name) + "#service-health", 303)


def said(summary: Summary) -> str:
    if not summary.found:
        return f"rbtk and PagerDuty agree ({summary.checked} open)"
    would = "would be " if summary.dry_run else ""
    return f"{summary.found} found, {summary.fixed} {would}fixed, {summary.left} left for you"

"""Integrations → PagerDuty: the connectors, Add, one connector's page, Send test event.

    GET  /settings/integrations/pagerduty                          the connectors
    GET  /settings/integrations/pagerduty/add                      the Add form
    POST /settings/integrations/pagerduty/add
    POST /settings/integrations/pagerduty/validate-key             {"ok", "message"} (JSON)
    GET  /settings/integrations/pagerduty/connectors/{name}         toggles, test, urgency
    POST /settings/integrations/pagerduty/connectors/{name}        save toggles and flags
    POST /settings/integrations/pagerduty/connectors/{name}/key    rotate the key
    POST /settings/integrations/pagerduty/connectors/{name}/test   Send test event (a severity)
    POST /settings/integrations/pagerduty/connectors/{name}/test/resolve   Resolve it now
    GET  /settings/integrations/pagerduty/connectors/{name}/test/{id}  a test send not answered
         when its form was (behind the rate budget, PagerDuty slow or down), followed
    (reconcile's section posts to rbtk.web.pages.reconcile)
    GET  /settings/integrations/pagerduty/connectors/{name}/delete confirm
    POST /settings/integrations/pagerduty/connectors/{name}/delete

Once saved, the integration key is never rendered again but masked. The one exception is the
Add form sent back for an error in another field: a key that is itself valid is put back in
its field, so it need not be pasted again (the page is no-store, and it is what the user just
typed there); a key that is not valid is never echoed.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from rbtk.admin import connector_settings, connectors
from rbtk.admin.connector_settings import ConnectorSettings, InvalidConnector
from rbtk.admin.connectors import ConnectorView
from rbtk.admin.probes import (
    UnknownDelivery,
    UnknownTestEvent,
    follow,
    resolve_test_event,
    send_test_event,
)
from rbtk.api.deps import Ctx
from rbtk.channels import registry
from rbtk.context import Context
from rbtk.outbox.log import delivery_log
from rbtk.policy.rules import SEVERITY, Rule
from rbtk.policy.severity import Severity, is_sent
from rbtk.reconcile import summary, verify
from rbtk.routing import suppression
from rbtk.runtime.errors import AdminError
from rbtk.web.auth import Csrf, SignedIn, operator
from rbtk.web.form_errors import form_errors
from rbtk.web.labels import SEVERITIES_HIGH_FIRST, rule_labels, rule_title, say
from rbtk.web.render import form_list, form_text, page, settings_given
from rbtk.web.session import flash
from rbtk.web.test_follow import follow_page

PREFIX = "/settings/integrations/pagerduty"
TEST_RESOLVE_AFTER_S = 60.0

router = APIRouter(prefix=PREFIX, dependencies=[SignedIn], include_in_schema=False)

# The forms' names for fields the admin functions name otherwise; an error about no one
# field (a rule both enabled and disabled) is shown at the rules.
RENAMED = {"integration_key": "key", "enable": "rules", "disable": "rules"}


def connector_url(name: str) -> str:
    return f"{PREFIX}/connectors/{quote(name, safe='')}"


# the list


@router.get("")
def list_page(request: Request, context: Ctx) -> Response:
    now = datetime.now(UTC)
    with context.reads.connect() as connection:
        views = connectors.list_all(connection)
        windows = suppression.load_open(connection, now)
    rows = [
        {
            "view": view,
            "url": connector_url(view.name),
            "enabled": [rule_title(rule) for rule, on in view.rules.items() if on],
            "cap": view.max_severity,
            "suppressed": suppression.covering(windows, view.id, now),
            "scheduled": sorted(
                (w for w in windows if w.connector_id == view.id and w.starts_at > now),
                key=lambda w: w.starts_at,
            ),
        }
        for view in views
    ]
    return page(request, "pagerduty_list.html", title="PagerDuty", rows=rows)


# Add


@router.get("/add")
def add_form(request: Request, context: Ctx) -> Response:
    return _add_page(request, context, values=None, errors={})


@router.post("/add", dependencies=[Csrf])
async def add(request: Request, context: Ctx) -> Response:
    form = await request.form()
    values = _typed(form)
    try:
        settings = connector_settings.parse(settings_given(form))
        with context.engine.begin() as connection:
            view = connectors.add(
                connection,
                vault=context.vault,
                name=values["name"],
                key=form_text(form, "integration_key"),
                settings=settings,
                enable=_rules_on(form),
                disable=_rules_off(form),
                by=operator(request),
                now=datetime.now(UTC),
            )
    except AdminError as exc:
        errors = form_errors(exc, default="rules", renamed=RENAMED)
        if "key" in errors:  # an invalid key is never put back in its field
            return _add_page(request, context, values=values, errors=errors)
        return _add_again(request, context, values, form, errors)
    flash(request, "success", f"Connector {view.name} added with key {view.key_masked}.")
    with context.reads.connect() as connection:
        sharing = [
            other.name
            for other in connectors.list_all(connection)
            if other.key_fingerprint == view.key_fingerprint and other.name != view.name
        ]
    if sharing:
        flash(
            request,
            "warning",
            f"{', '.join(sharing)} already use{'s' if len(sharing) == 1 else ''} this "
            "Integration Key: both page the same PagerDuty service, so an event routed to "
            "both reaches it twice. Use one connector per service.",
        )
    return RedirectResponse(connector_url(view.name), 303)


def _add_again(
    request: Request, context: Context, values: dict[str, Any], form: Any, errors: dict[str, str]
) -> Response:
    """The Add form again for an error in another field: a valid key is kept in its field
    (said so beside it), an invalid one is refused with its own message, never echoed.
    The name is checked before the key, so the key may not have been looked at yet."""
    try:
        secret = connectors.validate_key(form_text(form, "integration_key"))
    except connectors.InvalidKey as exc:
        errors |= form_errors(exc, default="key", renamed=RENAMED)
        return _add_page(request, context, values=values, errors=errors)
    kept = {**values, "integration_key": secret.reveal()}
    note = f"Kept: looks like an Integration Key ({secret.masked})."
    return _add_page(request, context, values=kept, errors=errors, key_note=note)


def _add_page(
    request: Request,
    context: Context,
    *,
    values: dict[str, Any] | None,
    errors: dict[str, str],
    key_note: str = "",
) -> Response:
    labels = rule_labels(context.settings)
    if values is None:
        with context.reads.connect() as connection:
            a_default_exists = any(v.is_default for v in connectors.list_all(connection))
        values = {
            **connector_settings.flat(ConnectorSettings()),
            "name": "",
            "enable": [label.rule.value for label in labels if label.default],
            "is_default": not a_default_exists,  # a second default is rarely what is meant
        }
    return page(
        request,
        "connector_add.html",
        status_code=422 if errors else 200,
        title="Add a PagerDuty connector",
        labels=labels,
        values=values,
        errors=errors,
        key_note=key_note,
        severities=SEVERITIES_HIGH_FIRST,
    )


class KeyCheck(BaseModel):
    integration_key: str


@router.post("/validate-key", dependencies=[Csrf])
def validate_key(check: KeyCheck) -> JSONResponse:
    """The Add and rotate forms ask this as the key field is left: one set of messages."""
    try:
        secret = connectors.validate_key(check.integration_key)
    except connectors.InvalidKey as exc:
        return JSONResponse({"ok": False, "message": say(exc)}, headers=_NO_STORE)
    return JSONResponse(
        {"ok": True, "message": f"Looks like an Integration Key ({secret.masked})."},
        headers=_NO_STORE,
    )


_NO_STORE = {"Cache-Control": "no-store"}


# a connector's page


@router.get("/connectors/{name}")
def connector_page(request: Request, name: str, context: Ctx) -> Response:
    return show_connector(request, context, name)


@router.post("/connectors/{name}", dependencies=[Csrf])
async def save(request: Request, name: str, context: Ctx) -> Response:
    form = await request.form()
    try:
        with context.engine.begin() as connection:
            before = connectors.get(connection, name=name)
            after = connectors.update(
                connection,
                vault=context.vault,
                name=name,
                changes=settings_given(form),
                enable=_rules_on(form),
                disable=_rules_off(form),
                by=operator(request),
                now=datetime.now(UTC),
            )
    except connectors.UnknownConnector:
        return _not_found(request, name)
    except InvalidConnector as exc:
        # Said above the form, and beside the field it is about when the form shows one.
        errors = {"settings": say(exc)} | form_errors(exc, default="settings", renamed=RENAMED)
        return show_connector(request, context, name, errors=errors)
    changes = _changes(before, after)
    flash(
        request,
        "success",
        f"Saved {name}: {'; '.join(changes)}." if changes else f"Nothing changed on {name}.",
    )
    return RedirectResponse(connector_url(name), 303)


@router.post("/connectors/{name}/key", dependencies=[Csrf])
async def rotate_key(request: Request, name: str, context: Ctx) -> Response:
    form = await request.form()
    try:
        with context.engine.begin() as connection:
            view = connectors.update(
                connection,
                vault=context.vault,
                name=name,
                key=form_text(form, "integration_key"),
                by=operator(request),
                now=datetime.now(UTC),
            )
    except connectors.UnknownConnector:
        return _not_found(request, name)
    except connectors.InvalidKey as exc:
        errors = form_errors(exc, default="key", renamed=RENAMED)
        return show_connector(request, context, name, errors=errors)
    flash(
        request,
        "success",
        f"New key {view.key_masked} saved for {name}. New incidents use it; open ones "
        "keep the key that triggered them, so their resolves still arrive.",
    )
    return RedirectResponse(connector_url(name), 303)


@router.post("/connectors/{name}/test", dependencies=[Csrf])
async def test_event(request: Request, name: str, context: Ctx) -> Response:
    form = await request.form()
    resolve = form_text(form, "resolve") == "on"
    chosen = form_text(form, "severity")
    severity = Severity(chosen) if chosen in Severity.__members__.values() else Severity.INFO
    try:
        outcome = await run_in_threadpool(
            send_test_event,
            context,
            connector=name,
            resolve_after_s=TEST_RESOLVE_AFTER_S if resolve else None,
            severity=severity,
        )
    except connectors.UnknownConnector:
        return _not_found(request, name)
    if not outcome.final:
        return RedirectResponse(f"{connector_url(name)}/test/{outcome.delivery_id}", 303)
    verified = None
    if outcome.error is None:
        verified = await run_in_threadpool(
            verify.confirm, context, connector=name, dedup_key=outcome.dedup_key
        )
    request.session["test_outcome"] = {
        "connector": name,
        "ok": outcome.error is None,
        "error": outcome.error,
        "verification": verified and verified.to_json(),
        "dedup_key": outcome.dedup_key,
        "status": outcome.status,
        "http_status": outcome.http_status,
        "message": outcome.message,
        "latency_ms": outcome.latency_ms,
        "resolve_at": None if outcome.resolve_at is None else outcome.resolve_at.isoformat(),
        "severity": severity.value,
    }
    return RedirectResponse(connector_url(name) + "#test-outcome", 303)


@router.post("/connectors/{name}/test/resolve", dependencies=[Csrf])
async def resolve_test(request: Request, name: str, context: Ctx) -> Response:
    """ "Resolve it now", after a test event: the outcome shown gains the resolve's."""
    form = await request.form()
    try:
        outcome = await run_in_threadpool(
            resolve_test_event,
            context,
            connector=name,
            dedup_key=form_text(form, "dedup_key"),
        )
    except connectors.UnknownConnector:
        return _not_found(request, name)
    except UnknownTestEvent as exc:
        flash(request, "error", f"{exc}.")
        return RedirectResponse(connector_url(name) + "#test-event", 303)
    if not outcome.final:
        return RedirectResponse(f"{connector_url(name)}/test/{outcome.delivery_id}", 303)
    request.session["test_outcome"] = {
        "connector": name,
        "ok": outcome.error is None,
        "dedup_key": outcome.dedup_key,
        "resolved": {
            "ok": outcome.error is None,
            "error": outcome.error,
            "http_status": outcome.http_status,
        },
    }
    return RedirectResponse(connector_url(name) + "#test-outcome", 303)


@router.get("/connectors/{name}/test/{delivery_id}")
async def follow_test(request: Request, name: str, delivery_id: int, context: Ctx) -> Response:
    """A test event's row until PagerDuty answers it: the page refreshes itself meanwhile."""
    try:
        outcome = await run_in_threadpool(follow, context, connector=name, delivery_id=delivery_id)
    except (connectors.UnknownConnector, UnknownDelivery):
        return _not_found(request, name)
    answer = f" (HTTP {outcome.http_status})" if outcome.http_status else ""
    return follow_page(
        request,
        title=f"Test event for {name}",
        back=connector_url(name),
        back_label=name,
        log=f"{PREFIX}/deliveries?dedup_key={quote(outcome.dedup_key, safe='')}",
        delivery_id=delivery_id,
        status=outcome.status,
        error=outcome.error,
        final=outcome.final,
        sent_text=f"PagerDuty accepted the test {outcome.action}{answer}.",
    )


@router.get("/connectors/{name}/delete")
def delete_form(request: Request, name: str, context: Ctx) -> Response:
    with context.reads.connect() as connection:
        try:
            view = connectors.get(connection, name=name)
        except connectors.UnknownConnector:
            return _not_found(request, name)
    return page(request, "connector_delete.html", title=f"Delete {name}", view=view, error=None)


@router.post("/connectors/{name}/delete", dependencies=[Csrf])
async def delete(request: Request, name: str, context: Ctx) -> Response:
    form = await request.form()
    force = form_text(form, "force") == "on"
    try:
        with context.engine.begin() as connection:
            forgotten = connectors.remove(
                connection, name=name, force=force, by=operator(request), now=datetime.now(UTC)
            )
    except connectors.UnknownConnector:
        return _not_found(request, name)
    except (connectors.ConnectorInUse, connectors.ConnectorRouted) as exc:
        with context.reads.connect() as connection:
            view = connectors.get(connection, name=name)
        return page(
            request,
            "connector_delete.html",
            status_code=409,
            title=f"Delete {name}",
            view=view,
            error=say(exc),
        )
    extra = f" and forgot its {forgotten} open incidents" if forgotten else ""
    flash(request, "success", f"Deleted connector {name}{extra}.")
    return RedirectResponse(PREFIX, 303)


# helpers


@dataclass(frozen=True)
class UrgencyRow:
    severity: Severity
    sent_as: Severity
    urgency: str
    sent: bool
    rules: list[str]


def urgency_rows(view: ConnectorView, real: dict[str, str] | None = None) -> list[UrgencyRow]:
    """What PagerDuty makes of each severity on this connector: the README's "What pages",
    or, once the service was read (`real`: severity → urgency), what it really does."""
    cap = view.max_severity
    rows = []
    for severity in SEVERITIES_HIGH_FIRST:
        sent_as = cap if cap is not None and severity > cap else severity
        rules = [
            rule_title(rule) for rule, on in view.rules.items() if on and SEVERITY[rule] is severity
        ]
        rows.append(
            UrgencyRow(
                severity=severity,
                sent_as=sent_as,
                urgency="High"
                if (real or {}).get(sent_as.value, sent_as.urgency) == "high"
                else "Low",
                sent=is_sent(sent_as, send_info=view.send_info),
                rules=rules,
            )
        )
    return rows


def show_connector(
    request: Request,
    context: Context,
    name: str,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """The connector's page; after a refused form, with its `errors` by field and what was
    `typed` in its fields that are not secret."""
    now = datetime.now(UTC)
    with context.reads.connect() as connection:
        try:
            view = connectors.get(connection, name=name)
        except connectors.UnknownConnector:
            return _not_found(request, name)
        windows = suppression.load_open(connection, now)
        recent = delivery_log.query(
            connection, connector=name, limit=5, rates=registry.rates(context.settings)
        ).deliveries
        runs = summary.latest(connection, name, limit=5)
    outcome = _once(request, "test_outcome", name)
    health = _once(request, "service_health", name)
    return page(
        request,
        "connector.html",
        status_code=422 if errors else 200,
        title=name,
        view=view,
        labels=rule_labels(context.settings),
        enabled=[rule.value for rule, on in view.rules.items() if on],
        endpoint=context.settings.pagerduty_endpoint(view.region),
        cap=view.max_severity,
        urgency=urgency_rows(view, health and health.get("urgency")),
        health=health,
        suppressed=suppression.covering(windows, view.id, now),
        recent=recent,
        runs=runs,
        outcome=outcome,
        errors=errors or {},
        typed=typed or {},
        severities=SEVERITIES_HIGH_FIRST,
        resolve_after_s=TEST_RESOLVE_AFTER_S,
    )


def _once(request: Request, key: str, name: str) -> dict[str, Any] | None:
    """What a form left in the session for this connector's page, shown once."""
    found = request.session.get(key)
    if isinstance(found, dict) and found.get("connector") == name:
        request.session.pop(key)
        return found
    return None


def _not_found(request: Request, name: str) -> Response:
    return page(
        request,
        "not_found.html",
        status_code=404,
        title="No such connector",
        message=f"There is no connector named {name!r}. It may have been deleted.",
    )


def _typed(form: Any) -> dict[str, Any]:
    """The Add form as typed, to show it again after a refusal: each setting's text (a box as
    ticked or not), the name, the rules ticked."""
    typed: dict[str, Any] = {}
    for leaf in connector_settings.leaves():
        text = form_text(form, leaf.name())
        typed[leaf.name()] = text == "on" if leaf.annotation is bool else text
    return typed | {"name": form_text(form, "name").strip(), "enable": _rules_on(form)}


def _rules_on(form: Any) -> list[str]:
    checked = set(form_list(form, "rules"))
    return [rule.value for rule in Rule if rule.value in checked]


def _rules_off(form: Any) -> list[str]:
    checked = set(form_list(form, "rules"))
    return [rule.value for rule in Rule if rule.value not in checked]


def _changes(before: ConnectorView, after: ConnectorView) -> list[str]:
    changes = [
        f"{rule_title(rule)} {'on' if on else 'off'}"
        for rule, on in after.rules.items()
        if before.rules.get(rule) != on
    ]
    if before.send_info != after.send_info:
        changes.append(f"info events {'sent' if after.send_info else 'not sent'}")
    if before.change_events != after.change_events:
        changes.append(f"release change events {'on' if after.change_events else 'off'}")
    if before.is_default != after.is_default:
        changes.append("now a default connector" if after.is_default else "no longer a default")
    if before.max_severity != after.max_severity:
        cap = after.max_severity
        changes.append(f"severity cap {cap.value}" if cap else "no severity cap")
    if before.region != after.region:
        changes.append(f"region {after.region.upper()}")
    if before.storm != after.storm:
        storm = after.storm
        rule = f"more than {storm.threshold} new incidents within {storm.window_s} s"
        changes.append(f"storms collapse ({rule})" if storm.collapse else "storms not collapsed")
    # Any other setting, by its label.
    said = {"send_info", "change_events", "is_default", "max_severity", "region", "storm"}
    was, now = connector_settings.flat(before), connector_settings.flat(after)
    changes += [
        f"{leaf.shown.label}: {now[leaf.name()]}"
        for leaf in connector_settings.leaves()
        if leaf.path[0] not in said and now[leaf.name()] != was[leaf.name()]
    ]
    return changes

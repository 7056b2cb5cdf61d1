"""Integrations → Slack and email: channels and the ordered rules choosing them.

    GET  /settings/integrations/notifications?edit=
    POST /settings/integrations/notifications/channels                 add a channel
    POST /settings/integrations/notifications/channels/{name}/test     send a test message
    POST /settings/integrations/notifications/channels/{name}/health   health=on|off
    POST /settings/integrations/notifications/channels/{name}/remove
    POST /settings/integrations/notifications/rules                    add a rule
    POST /settings/integrations/notifications/rules/{position}         edit it
    POST /settings/integrations/notifications/rules/{position}/move    to=
    POST /settings/integrations/notifications/rules/{position}/remove

A channel marked "rbtk health" is told, whatever the rules say, when pages are stuck
undelivered (`rbtk.outbox.log.stuck`). Writes go through `rbtk.admin.chat_channels` (and the test
through `probes.send_test_message`), as the API's do. A Slack webhook URL is a secret: never
shown again once saved, nor after an error (the form asks for it again).
"""

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from rbtk.admin import chat_channels, probes
from rbtk.api.deps import Ctx
from rbtk.channels.registry import CHAT
from rbtk.context import Context
from rbtk.policy.events import PAYLOADS
from rbtk.routing import chat
from rbtk.routing.chat import ChatRule
from rbtk.runtime.errors import AdminError
from rbtk.runtime.timefmt import span
from rbtk.web.auth import Csrf, SignedIn, operator
from rbtk.web.form_errors import form_errors
from rbtk.web.labels import say
from rbtk.web.pages.ordered import Change, rule_routes, save_errors
from rbtk.web.render import form_text, page
from rbtk.web.session import flash
from rbtk.web.test_follow import follow_page

PREFIX = "/settings/integrations/notifications"
SECRET_AGAIN = "For safety a secret is not kept after an error: paste it again."

router = APIRouter(prefix=PREFIX, dependencies=[SignedIn], include_in_schema=False)


@router.get("")
def notifications_page(request: Request, context: Ctx, edit: int | None = None) -> Response:
    return _page(request, context, edit=edit)


@router.post("/channels", dependencies=[Csrf])
async def add_channel(request: Request, context: Ctx) -> Response:
    form = await request.form()
    kind = form_text(form, "kind")
    channel = CHAT.get(kind)
    fields = channel.fields if channel is not None else ()
    given = {f.name: form_text(form, f"{kind}.{f.name}").strip() for f in fields}
    values = {f.name: _addresses(given[f.name]) if f.many else given[f.name] for f in fields}
    shown = {"name": form_text(form, "name").strip(), "kind": kind, **given}
    health = form_text(form, "health") == "on"
    by = operator(request)

    def add() -> chat_channels.ChannelView:
        with context.engine.begin() as connection:
            return chat_channels.add_channel(
                connection,
                vault=context.vault,
                name=shown["name"],
                kind=kind,
                values={k: v for k, v in values.items() if v},
                allow_private_webhooks=context.settings.allow_private_webhooks,
                by=by,
                now=datetime.now(UTC),
                health=health,
            )

    try:
        # In a thread: checking a webhook resolves its host, which must not stall the loop
        # that also runs the delivery workers.
        view = await run_in_threadpool(add)
    except AdminError as exc:
        errors = form_errors(exc, default="name")
        for secret in (f.name for f in fields if f.secret):
            errors[secret] = f"{errors.get(secret, '')} {SECRET_AGAIN}".lstrip()
        return _page(
            request, context, channel_form=shown | {"health": health}, channel_errors=errors
        )
    flash(request, "success", f"Channel {view.name} added ({view.kind}: {view.sends_to}).")
    return RedirectResponse(PREFIX, 303)


@router.post("/channels/{name}/test", dependencies=[Csrf])
async def test_channel(request: Request, name: str, context: Ctx) -> Response:
    try:
        outcome = await run_in_threadpool(probes.send_test_message, context, channel=name)
    except chat_channels.UnknownChannel as exc:
        flash(request, "error", say(exc))
        return RedirectResponse(PREFIX, 303)
    if not outcome.final:
        return RedirectResponse(f"{_channel_url(name)}/test/{outcome.delivery_id}", 303)
    if outcome.error is None:
        said = f" ({outcome.said})." if outcome.said else "."
        flash(request, "success", f"Test message sent to {name}{said}")
    else:
        flash(request, "error", f"{outcome.error[0].upper()}{outcome.error[1:]}.")
    return RedirectResponse(f"{PREFIX}#channel-{quote(name, safe='')}", 303)


@router.get("/channels/{name}/test/{delivery_id}")
async def follow_test(request: Request, name: str, delivery_id: int, context: Ctx) -> Response:
    """A test message's row until the channel answers it: the page refreshes meanwhile."""
    try:
        outcome = await run_in_threadpool(
            probes.follow_message, context, channel=name, delivery_id=delivery_id
        )
    except probes.UnknownDelivery as exc:
        flash(request, "error", say(exc))
        return RedirectResponse(PREFIX, 303)
    return follow_page(
        request,
        title=f"Test message for {name}",
        back=f"{PREFIX}#channel-{quote(name, safe='')}",
        back_label="Notifications",
        log=f"/settings/integrations/pagerduty/deliveries?channel={quote(name, safe='')}",
        delivery_id=delivery_id,
        status=outcome.status,
        error=outcome.error,
        final=outcome.final,
        sent_text=f"Test message sent to {name}" + (f" ({outcome.said})." if outcome.said else "."),
    )


def _channel_url(name: str) -> str:
    return f"{PREFIX}/channels/{quote(name, safe='')}"


@router.post("/channels/{name}/health", dependencies=[Csrf])
async def set_health(request: Request, name: str, context: Ctx) -> Response:
    health = form_text(await request.form(), "health") == "on"
    try:
        with context.engine.begin() as connection:
            chat_channels.set_health(
                connection, name=name, health=health, by=operator(request), now=datetime.now(UTC)
            )
    except chat_channels.UnknownChannel as exc:
        flash(request, "error", say(exc))
        return RedirectResponse(PREFIX, 303)
    said = (
        "is marked rbtk health: it is told when pages are stuck undelivered"
        if health
        else "is no longer marked rbtk health"
    )
    flash(request, "success", f"Channel {name} {said}.")
    return RedirectResponse(f"{PREFIX}#channel-{quote(name, safe='')}", 303)


@router.post("/channels/{name}/remove", dependencies=[Csrf])
def remove_channel(request: Request, name: str, context: Ctx) -> Response:
    try:
        with context.engine.begin() as connection:
            chat_channels.remove_channel(
                connection, name=name, by=operator(request), now=datetime.now(UTC)
            )
    except (chat_channels.UnknownChannel, chat_channels.ChannelInUse) as exc:
        flash(request, "error", say(exc))
    else:
        flash(request, "success", f"Channel {name} removed.")
    return RedirectResponse(PREFIX, 303)


def _save(
    request: Request,
    context: Context,
    change: Change[ChatRule],
    *,
    done: str,
    edit: int | None = None,
    add_form: dict[str, Any] | None = None,
    edit_form: dict[str, Any] | None = None,
) -> Response:
    errors = save_errors(
        context, change, chat.load_rules, chat_channels.replace_rules, by=operator(request)
    )
    if not errors:
        flash(request, "success", done)
        return RedirectResponse(f"{PREFIX}#rules-heading", 303)
    return _page(
        request,
        context,
        edit=edit,
        rule_errors=errors,
        add_form=add_form,
        edit_form=edit_form,
    )


rule_routes(router, ChatRule, _save)


def _page(
    request: Request,
    context: Context,
    *,
    edit: int | None = None,
    channel_form: dict[str, Any] | None = None,
    channel_errors: dict[str, str] | None = None,
    rule_errors: list[str] | None = None,
    add_form: dict[str, Any] | None = None,
    edit_form: dict[str, Any] | None = None,
) -> Response:
    with context.reads.connect() as connection:
        channels = chat_channels.list_channels(connection)
        rules = chat.load_rules(connection)
    return page(
        request,
        "notifications.html",
        status_code=422 if channel_errors or rule_errors else 200,
        title="Slack and email",
        channels=channels,
        rules=rules,
        edit=edit,
        edit_form=edit_form,
        add_form=add_form or {"project": "", "event_type": "", "names": [], "position": None},
        rule_errors=rule_errors or [],
        channel_form=channel_form or {"name": "", "kind": next(iter(CHAT)), "health": False},
        kinds=CHAT,
        channel_errors=channel_errors or {},
        event_types=sorted(PAYLOADS),
        stuck_after=span(context.settings.stuck_after_s),
    )


def _addresses(text: str) -> list[str]:
    """One address a line, or separated by commas or spaces."""
    return [part for part in re.split(r"[\s,;]+", text) if part]

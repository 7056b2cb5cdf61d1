"""Chat channels (Slack, email, webhooks), and the ordered rules choosing them: the one
write path.

What a destination takes is the channel's to say (`rbtk.channels.registry`): its fields,
their checks, which one is the secret. A secret (a Slack webhook URL, a signing secret) is
stored encrypted, shown only masked (its last 4 characters), never echoed in an error nor
kept in the clear in the audit log (where every change is recorded). Errors (under
`rbtk.runtime.errors`), each message saying what to do:

    Invalid  ── InvalidChannel — a bad name or kind, or a destination its channel refuses
             ── InvalidRules (an InvalidList) — the rule list is wrong; `errors` names each
    Conflict ── DuplicateChannel — the name is taken
             ── ChannelInUse — removal refused: rules still name it
    NotFound ── UnknownChannel — no channel by that name
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from rbtk.admin import audit
from rbtk.admin.connectors import masked
from rbtk.channels.base import InvalidDestination
from rbtk.channels.registry import CHAT
from rbtk.routing import ordered_rules
from rbtk.routing.chat import ChatRule, load_rules
from rbtk.runtime.errors import Conflict, Invalid, InvalidList, NotFound
from rbtk.runtime.secrets import Secret, Vault
from rbtk.store.tables import notify_channels, notify_rules

MAX_NAME = 64

_NAME = re.compile(r"[a-z0-9][a-z0-9-]*", re.ASCII)


class InvalidChannel(Invalid):
    pass


class InvalidRules(InvalidList):
    pass


class DuplicateChannel(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"a channel named {name!r} already exists", field="name")


class UnknownChannel(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"no notification channel named {name!r}")
        self.name = name


class ChannelInUse(Conflict):
    def __init__(self, name: str, positions: Sequence[int]) -> None:
        where = ", ".join(str(p) for p in positions)
        plural = "rule" if len(positions) == 1 else "rules"
        super().__init__(
            f"channel {name!r} is named by the notification {plural} at position {where}: "
            f"remove it from {'that rule' if len(positions) == 1 else 'those rules'} first"
        )


@dataclass(frozen=True)
class ChannelView:
    """A channel as it may be shown anywhere: its secret only ever masked."""

    name: str
    kind: str
    config: dict[str, Any]  # what it sends to, in the clear (email recipients, a URL)
    secret_masked: str | None
    sends_to: str  # the channel's own one-line account of where it sends
    rules: list[int]  # positions of the rules naming it
    created_at: datetime
    health: bool = False  # "rbtk health": told when rbtk itself cannot page

    @property
    def recipients(self) -> list[str] | None:
        return self.config.get("recipients")


# validation


def validate_name(name: str) -> str:
    if not name:
        raise InvalidChannel(
            "name: must not be empty; use a slug such as 'ops-slack'", field="name"
        )
    if len(name) > MAX_NAME:
        raise InvalidChannel(
            f"name: must be at most {MAX_NAME} characters, got {len(name)}", field="name"
        )
    if not _NAME.fullmatch(name):
        raise InvalidChannel(
            f"name: {name!r} is not a lower-case slug: use a-z, 0-9 and '-', starting with a "
            "letter or digit, e.g. 'ops-slack'",
            field="name",
        )
    return name


# channels


def add_channel(
    connection: Connection,
    *,
    vault: Vault,
    name: str,
    kind: str,
    values: Mapping[str, Any],
    allow_private_webhooks: bool,
    by: str,
    now: datetime,
    health: bool = False,
) -> ChannelView:
    """Add a channel of `kind` sending to `values` (its fields, e.g. `webhook_url`); fields
    of another kind are refused. A webhook's host is resolved before anything is written.
    `health`: marked "rbtk health", so it is told when rbtk cannot page."""
    validate_name(name)
    stored = destination_values(vault, kind, values, allow_private=allow_private_webhooks)
    if _row(connection, name) is not None:
        raise DuplicateChannel(name)
    try:
        connection.execute(
            insert(notify_channels).values(name=name, created_at=now, health=health, **stored)
        )
    except IntegrityError:  # another writer took the name between the check and the insert
        raise DuplicateChannel(name) from None
    view = get_channel(connection, name=name)
    audit.record(
        connection,
        by=by,
        action="channel.add",
        target=name,
        before=None,
        after=audited(view),
        at=now,
    )
    return view


def destination_values(
    vault: Vault, kind: str, values: Mapping[str, Any], *, allow_private: bool
) -> dict[str, Any]:
    """A `kind` channel's columns for `values` (its fields, its secret in the clear), checked
    as its channel module checks them; fields of another kind are refused."""
    channel = CHAT.get(kind)
    if channel is None:
        known = ", ".join(repr(k) for k in CHAT)
        raise InvalidChannel(f"kind: must be one of {known}, got {kind!r}", field="kind")
    takes = {field.name for field in channel.fields}
    for field, value in values.items():
        if value is not None and field not in takes:
            raise InvalidChannel(f"{field}: {_owners(field)}", field=field)
    try:
        destination = channel.validate(values, allow_private=allow_private)
    except InvalidDestination as exc:
        raise InvalidChannel(str(exc), field=exc.field) from None
    secret = destination.secret
    return {
        "kind": kind,
        "secret": None if secret is None else vault.encrypt(secret),
        "secret_last4": None if secret is None else secret.reveal()[-4:],
        "config": destination.config,
        "endpoint": destination.endpoint,
    }


def _owners(field: str) -> str:
    """ "only Slack channels have a webhook URL": what a field given to another kind means."""
    for channel in CHAT.values():
        for known in channel.fields:
            if known.name == field:
                noun = known.label[:1].lower() + known.label[1:]
                return f"only {channel.label} channels have {'' if known.many else 'a '}{noun}"
    return "no channel kind takes this field"


def validate_secret(view: ChannelView, value: str, *, allow_private: bool) -> Secret:
    """A new value for a stored channel's secret, checked as its channel checks it."""
    channel = CHAT[view.kind]
    field = next(f.name for f in channel.fields if f.secret)
    try:
        destination = channel.validate({**view.config, field: value}, allow_private=allow_private)
    except InvalidDestination as exc:
        raise InvalidChannel(str(exc), field=exc.field) from None
    if destination.secret is None:
        raise InvalidChannel(f"{field}: is empty", field=field)
    return destination.secret


def set_health(
    connection: Connection, *, name: str, health: bool, by: str, now: datetime
) -> ChannelView:
    """Mark a channel "rbtk health" (told when rbtk cannot page), or unmark it. Chat rules
    need not name it: health messages go to every marked channel."""
    before = get_channel(connection, name=name)
    connection.execute(
        update(notify_channels).where(notify_channels.c.name == name).values(health=health)
    )
    view = get_channel(connection, name=name)
    audit.record(
        connection,
        by=by,
        action="channel.update",
        target=name,
        before=audited(before),
        after=audited(view),
        at=now,
    )
    return view


def remove_channel(connection: Connection, *, name: str, by: str, now: datetime) -> None:
    """Delete a channel no rule names; its delivery-log rows stay."""
    view = get_channel(connection, name=name)
    if view.rules:
        raise ChannelInUse(name, view.rules)
    connection.execute(delete(notify_channels).where(notify_channels.c.name == name))
    audit.record(
        connection,
        by=by,
        action="channel.remove",
        target=name,
        before=audited(view),
        after=None,
        at=now,
    )


def audited(view: ChannelView) -> dict[str, Any]:
    """What the audit log keeps of a channel: its secret only masked."""
    return {
        "name": view.name,
        "kind": view.kind,
        "config": view.config,
        "secret": view.secret_masked,
        "health": view.health,
    }


def get_channel(connection: Connection, *, name: str) -> ChannelView:
    row = _row(connection, name)
    if row is None:
        raise UnknownChannel(name)
    return _view(row, _naming(connection).get(name, []))


def list_channels(connection: Connection) -> list[ChannelView]:
    naming = _naming(connection)
    rows = connection.execute(select(notify_channels).order_by(notify_channels.c.name))
    return [_view(r._mapping, naming.get(r.name, [])) for r in rows]


# rules


RULES_TARGET = "chat rules"  # the audit log's target of every change of the chat rules


def replace_rules(
    connection: Connection, rules: Sequence[ChatRule], *, by: str, now: datetime
) -> list[ChatRule]:
    """Validate the whole ordered list, then make it the rules; a bad list changes nothing.

    A rule without a project or event type matches every event: a catch-all is allowed.
    Unlike PagerDuty routing, any event type may be named outright: events of types rbtk has
    no rule for are accepted and routed to chat rules only, so an unknown type is no typo.
    """
    known = {row.name for row in connection.execute(select(notify_channels.c.name))}
    errors = ordered_rules.rule_errors(rules, known, noun="channel")
    if errors:
        raise InvalidRules(errors)
    before = load_rules(connection)
    ordered_rules.store(connection, notify_rules, rules, now=now)
    after = load_rules(connection)
    audit.record(
        connection,
        by=by,
        action="chat_rules.replace",
        target=RULES_TARGET,
        before={"rules": [rule.audited() for rule in before]},
        after={"rules": [rule.audited() for rule in after]},
        at=now,
    )
    return after


def _row(connection: Connection, name: str) -> Any:
    row = connection.execute(select(notify_channels).where(notify_channels.c.name == name)).first()
    return None if row is None else row._mapping


def _naming(connection: Connection) -> dict[str, list[int]]:
    """For each channel name, the positions of the rules naming it."""
    naming: dict[str, list[int]] = {}
    for rule in load_rules(connection):
        for name in rule.channels:
            naming.setdefault(name, []).append(rule.position)
    return naming


def _view(row: Any, rules: list[int]) -> ChannelView:
    secret = None if row["secret_last4"] is None else masked(row["secret_last4"])
    config = dict(row["config"])
    channel = CHAT.get(row["kind"])
    return ChannelView(
        name=row["name"],
        kind=row["kind"],
        config=config,
        secret_masked=secret,
        sends_to=row["endpoint"] if channel is None else channel.describe(config, secret),
        rules=rules,
        created_at=row["created_at"],
        health=row["health"],
    )

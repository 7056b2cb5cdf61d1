"""What applying a document would do: each connector, rule, channel and window to create,
change or remove, field by field.

The stored configuration is read through `rbtk.admin`'s reads and compared with the document
and the secrets the CLI sent. Secrets are compared, never shown: a connector's key by its
fingerprint, its REST API key and a chat channel's secret (which have no stored fingerprint)
with the stored one decrypted here. An unchanged secret is no change; a changed one shows only
its masks ("key: ••••••••…a1b2 → ••••••••…c9d8", with fingerprints when the masks look alike).
The REST API key is optional: a connector the file gives none loses the one stored
("rest_key: ••••••••…wxyz → none"), as the file is the whole configuration.

Identity: connectors and channels by name; routing and chat rules by position (the list is
written whole, in the file's order); suppression windows by connector, start, end and reason
(a window cannot be edited, only ended: a window changed in the file ends the stored one and
opens the new one). A window of the file that is already over is skipped, with a note.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection

from rbtk.admin import (
    channel_destinations,
    chat_channels,
    connector_settings,
    connectors,
    runbooks,
    suppressions,
)
from rbtk.admin.connector_settings import ConnectorSettings, flat
from rbtk.admin.connectors import KEEP, ConnectorView, InvalidKey, Keep
from rbtk.channels.base import InvalidDestination
from rbtk.channels.registry import CHAT
from rbtk.config_file import document as doc
from rbtk.config_file.problems import ConfigProblems, Loc, Problem
from rbtk.config_file.references import Secrets
from rbtk.policy.rules import Rule
from rbtk.routing import chat, pagerduty
from rbtk.routing.chat import ChatRule
from rbtk.routing.ordered_rules import OrderedRule
from rbtk.routing.pagerduty import RouteRule
from rbtk.runtime.secrets import Secret, Vault
from rbtk.runtime.timefmt import format_rfc3339

Action = Literal["create", "change", "remove"]


@dataclass(frozen=True)
class Diff:
    """One field: None before (created) or after (removed); secrets only masked."""

    field: str
    before: str | None
    after: str | None

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Change:
    action: Action
    kind: str  # "connector", "routing rule", "chat channel", "chat rule", "suppression window"
    name: str
    diffs: tuple[Diff, ...] = ()
    loc: Loc = ()  # where the document says it; for a removal, the list it is missing from

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "name": self.name,
            "fields": [d.as_json() for d in self.diffs],
        }


@dataclass(frozen=True)
class ConnectorStep:
    change: Change
    desired: doc.Connector | None  # None: remove it
    key: Secret | None  # the key to store: on create, or when it changed
    rest_key: Secret | Keep | None = KEEP  # the REST API key to store; None: have none


@dataclass(frozen=True)
class ChannelStep:
    change: Change
    desired: doc.ChannelBase | None  # None: remove it
    values: dict[str, Any]  # its fields, the secret in the clear: for add and update
    destination: bool  # its kind, fields or secret change
    health: bool  # its health mark changes


@dataclass(frozen=True)
class WindowStep:
    change: Change
    desired: doc.Window | None  # None: end the stored window `window_id` now
    window_id: int | None = None


@dataclass(frozen=True)
class Plan:
    connectors: list[ConnectorStep] = field(default_factory=list)
    routing: list[Change] = field(default_factory=list)  # empty: the list stays
    routing_rules: list[RouteRule] = field(default_factory=list)
    runbooks: list[Change] = field(default_factory=list)  # name: the rule; after None: unset
    channels: list[ChannelStep] = field(default_factory=list)
    chat_rules: list[Change] = field(default_factory=list)
    chat_rule_list: list[ChatRule] = field(default_factory=list)
    windows: list[WindowStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        """Every change, section by section as the document lists them."""
        return [
            *(step.change for step in self.connectors),
            *self.routing,
            *self.runbooks,
            *(step.change for step in self.channels),
            *self.chat_rules,
            *(step.change for step in self.windows),
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "changes": [c.as_json() for c in self.changes],
            "notes": self.notes,
        }


def make_plan(
    connection: Connection,
    document: doc.Document,
    *,
    secrets: Secrets,
    vault: Vault,
    allow_private_webhooks: bool,
    dry_run: bool,
    now: datetime,
) -> Plan:
    """The plan, or ConfigProblems naming each secret or destination that cannot be used."""
    problems: list[Problem] = []
    plan = Plan()
    if dry_run:
        secrets = _stored_for_unsent(connection, document, secrets, vault, plan.notes)
    plan.connectors.extend(_connectors(connection, document, secrets, vault, problems))
    plan.routing.extend(_routing(connection, document, plan.routing_rules))
    plan.runbooks.extend(_runbooks(connection, document))
    plan.channels.extend(
        _channels(connection, document, secrets, vault, allow_private_webhooks, problems)
    )
    plan.chat_rules.extend(_chat_rules(connection, document, plan.chat_rule_list))
    plan.windows.extend(_windows(connection, document, now, plan.notes))
    if problems:
        raise ConfigProblems(problems)
    return plan


# secrets


def _stored_for_unsent(
    connection: Connection,
    document: doc.Document,
    secrets: Secrets,
    vault: Vault,
    notes: list[str],
) -> Secrets:
    """A dry run's secrets, each one not sent (its variable unset where the CLI ran, as right
    after `rbtk admin export`) taken from what rbtk stores, with a note saying so: the plan
    shows it unchanged. A real apply is sent every secret or refused; so is a dry run of
    something not stored yet."""
    keys, rest_keys, channel_secrets = (
        dict(secrets.connectors),
        dict(secrets.rest_keys),
        dict(secrets.channels),
    )
    for connector in document.pagerduty.connectors:
        name = connector.name
        if name not in keys:
            kept = connectors.stored_key(connection, vault=vault, name=name)
            if kept is not None:
                keys[name] = kept
                notes.append(_unsent(connector.key, f"the key of connector {name!r}"))
        rest_reference = connector.rest_key
        if rest_reference is not None and name not in rest_keys:
            kept = connectors.stored_rest_key(connection, vault=vault, name=name)
            if kept is not None:
                rest_keys[name] = kept
                notes.append(_unsent(rest_reference, f"the REST API key of connector {name!r}"))
    for channel in document.chat.channels:
        reference, secret_field = channel.secret, channel.secret_field
        if reference is None or secret_field is None or channel.name in channel_secrets:
            continue
        kept = channel_destinations.stored_secret(connection, vault=vault, name=channel.name)
        if kept is not None:
            channel_secrets[channel.name] = kept
            what = f"the {secret_field.label} of chat channel {channel.name!r}"
            notes.append(_unsent(reference, what))
    return Secrets(connectors=keys, channels=channel_secrets, rest_keys=rest_keys)


def _unsent(reference: doc.Reference, what: str) -> str:
    unread = "is not set" if reference.kind == "env" else "was not read"
    return f"{reference.value} {unread}: {what} is shown unchanged (a dry run; applying needs it)"


# runbooks


def _runbooks(connection: Connection, document: doc.Document) -> list[Change]:
    """Rule by rule; a document without `runbooks` leaves them as they are."""
    wanted = document.pagerduty.runbooks
    if wanted is None:
        return []
    stored = runbooks.get_all(connection)
    loc: Loc = ("pagerduty", "runbooks")
    changes = []
    for rule in Rule:
        before, after = stored.get(rule), wanted.get(rule)
        if before == after:
            continue
        action: Action = "create" if before is None else "remove" if after is None else "change"
        at = loc if after is None else (*loc, rule.value)
        changes.append(Change(action, "runbook", rule.value, (Diff("url", before, after),), at))
    return changes


# connectors


def _connectors(
    connection: Connection,
    document: doc.Document,
    secrets: Secrets,
    vault: Vault,
    problems: list[Problem],
) -> list[ConnectorStep]:
    stored = {view.name: view for view in connectors.list_all(connection)}
    steps = []
    for at, connector in enumerate(document.pagerduty.connectors):
        loc: Loc = ("pagerduty", "connectors", at)
        key = _key(connector, secrets, (*loc, connector.key.field), problems)
        rest_key = _rest_key(connector, secrets, loc, problems)
        view = stored.get(connector.name)
        after = _wanted(connector)
        if view is None:
            shown: tuple[Diff, ...] = () if key is None else (Diff("key", None, key.masked),)
            shown += () if rest_key is None else (Diff("rest_key", None, rest_key.masked),)
            created = shown + tuple(Diff(f, None, value) for f, value in after.items())
            change = Change("create", "connector", connector.name, created, loc)
            steps.append(ConnectorStep(change, connector, key, rest_key))
            continue
        new_key = key is not None and key.fingerprint != view.key_fingerprint
        diffs: tuple[Diff, ...] = ()
        if key is not None and new_key:
            diffs = (Diff("key", *_masks(view.key_masked, view.key_fingerprint, key)),)
        kept = None
        if view.rest_key_masked is not None:
            kept = connectors.stored_rest_key(connection, vault=vault, name=connector.name)
        new_rest_key = _fingerprint(kept) != _fingerprint(rest_key)
        if new_rest_key:
            diffs += (Diff("rest_key", *_rest_key_masks(kept, rest_key)),)
        before = _stored(view)
        diffs += tuple(
            Diff(f, before[f], value) for f, value in after.items() if before[f] != value
        )
        if diffs:
            change = Change("change", "connector", connector.name, diffs, loc)
            step = ConnectorStep(
                change, connector, key if new_key else None, rest_key if new_rest_key else KEEP
            )
            steps.append(step)
    declared = {c.name for c in document.pagerduty.connectors}
    for name, view in stored.items():
        if name not in declared:
            diffs = (Diff("open incidents", str(view.open_incidents), None),)
            shown = diffs if view.open_incidents else ()
            change = Change("remove", "connector", name, shown, ("pagerduty", "connectors"))
            steps.append(ConnectorStep(change, None, None))
    return steps


def _key(
    connector: doc.Connector, secrets: Secrets, loc: Loc, problems: list[Problem]
) -> Secret | None:
    sent = secrets.connectors.get(connector.name)
    if sent is None:
        problems.append(Problem(loc, f"no key was sent for connector {connector.name!r}"))
        return None
    try:
        return connectors.validate_key(sent.reveal())
    except InvalidKey as exc:
        reference = connector.key
        where = "the variable" if reference.kind == "env" else "the file"
        problems.append(Problem(loc, f"{where} {reference.value} does not hold a key: {exc}"))
        return None


def _rest_key(
    connector: doc.Connector, secrets: Secrets, loc: Loc, problems: list[Problem]
) -> Secret | None:
    """The REST API key the file names, checked; None when it names none (or with a problem)."""
    reference = connector.rest_key
    if reference is None:
        return None
    loc = (*loc, reference.field)
    sent = secrets.rest_keys.get(connector.name)
    if sent is None:
        message = f"no REST API key was sent for connector {connector.name!r}"
        problems.append(Problem(loc, message))
        return None
    try:
        return connectors.validate_rest_key(sent.reveal())
    except InvalidKey as exc:
        where = "the variable" if reference.kind == "env" else "the file"
        told = str(exc).removeprefix("rest_key: ")
        problems.append(
            Problem(loc, f"{where} {reference.value} does not hold a REST API key: {told}")
        )
        return None


def _fingerprint(secret: Secret | None) -> str | None:
    return None if secret is None else secret.fingerprint


def _rest_key_masks(kept: Secret | None, wanted: Secret | None) -> tuple[str, str]:
    if kept is None or wanted is None:
        return _mask(kept), _mask(wanted)
    return _masks(kept.masked, kept.fingerprint, wanted)


def _mask(secret: Secret | None) -> str:
    return "none" if secret is None else secret.masked


def _masks(masked: str, fingerprint: str, new: Secret) -> tuple[str, str]:
    if masked != new.masked:
        return masked, new.masked
    # Alike to the last four: the fingerprints tell them apart.
    return f"{masked} ({fingerprint[:12]})", f"{new.masked} ({new.fingerprint[:12]})"


def _wanted(connector: doc.Connector) -> dict[str, str]:
    return _connector_fields(connector_settings.of(connector), connector.enabled())


def _stored(view: ConnectorView) -> dict[str, str]:
    return _connector_fields(connector_settings.of(view), view.rules)


def _connector_fields(settings: ConnectorSettings, rules: Mapping[Rule, bool]) -> dict[str, str]:
    """A connector's settings as the document writes them, to compare and to show."""
    shown = {field: _shown(value) for field, value in flat(settings, ".").items()}
    return {**shown, **{f"rules.{rule.value}": _yes(rules.get(rule, False)) for rule in Rule}}


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return _yes(value)
    return "none" if value is None else str(value)


def _yes(value: bool) -> str:
    return "true" if value else "false"


# ordered rules


def _routing(connection: Connection, document: doc.Document, into: list[RouteRule]) -> list[Change]:
    wanted = [
        RouteRule(at, rule.project, rule.event_type, tuple(rule.connectors))
        for at, rule in enumerate(document.pagerduty.routing, start=1)
    ]
    changes = _ordered(pagerduty.load_rules(connection), wanted, "routing rule", "pagerduty")
    if changes:
        into.extend(wanted)
    return changes


def _chat_rules(
    connection: Connection, document: doc.Document, into: list[ChatRule]
) -> list[Change]:
    wanted = [
        ChatRule(at, rule.project, rule.event_type, tuple(rule.channels))
        for at, rule in enumerate(document.chat.rules, start=1)
    ]
    changes = _ordered(chat.load_rules(connection), wanted, "chat rule", "chat")
    if changes:
        into.extend(wanted)
    return changes


def _ordered(
    stored: Sequence[OrderedRule], wanted: Sequence[OrderedRule], kind: str, section: str
) -> list[Change]:
    """Position by position; the list is written whole when any position changes."""
    listed = "routing" if section == "pagerduty" else "rules"
    changes = []
    for at in range(max(len(stored), len(wanted))):
        before = _rule_fields(stored[at]) if at < len(stored) else None
        after = _rule_fields(wanted[at]) if at < len(wanted) else None
        name = str(at + 1)
        if before is None and after is not None:
            diffs = tuple(Diff(f, None, v) for f, v in after.items())
            changes.append(Change("create", kind, name, diffs, (section, listed, at)))
        elif after is None and before is not None:
            diffs = tuple(Diff(f, v, None) for f, v in before.items())
            changes.append(Change("remove", kind, name, diffs, (section, listed)))
        elif before is not None and after is not None and before != after:
            diffs = tuple(Diff(f, before[f], v) for f, v in after.items() if before[f] != v)
            changes.append(Change("change", kind, name, diffs, (section, listed, at)))
    return changes


def _rule_fields(rule: OrderedRule) -> dict[str, str]:
    return {
        "project": rule.project or "any",
        "event_type": rule.event_type or "any",
        rule.targets_field: ", ".join(rule.targets),
    }


# chat channels


def _channels(
    connection: Connection,
    document: doc.Document,
    secrets: Secrets,
    vault: Vault,
    allow_private: bool,
    problems: list[Problem],
) -> list[ChannelStep]:
    stored = {view.name: view for view in chat_channels.list_channels(connection)}
    steps = []
    for at, channel in enumerate(document.chat.channels):
        loc: Loc = ("chat", "channels", at)
        checked = _destination(channel, secrets, allow_private, loc, problems)
        if checked is None:
            continue
        values, secret, config = checked
        after = _channel_fields(channel.kind, config, None if secret is None else secret.masked)
        after["health"] = _yes(channel.health)
        view = stored.get(channel.name)
        if view is None:
            diffs = tuple(Diff(f, None, v) for f, v in after.items())
            change = Change("create", "chat channel", channel.name, diffs, loc)
            steps.append(ChannelStep(change, channel, values, True, False))
            continue
        before = _channel_fields(view.kind, view.config, view.secret_masked)
        before["health"] = _yes(view.health)
        kept = channel_destinations.stored_secret(connection, vault=vault, name=channel.name)
        secret_field = channel.secret_field
        diffs = tuple(
            Diff(f, before.get(f), v)
            for f, v in after.items()
            if before.get(f) != v and (secret_field is None or f != secret_field.name)
        )
        diffs += tuple(Diff(f, v, None) for f, v in before.items() if f not in after)
        if secret_field is not None and secret != kept:
            diffs += (Diff(secret_field.name, view.secret_masked, after[secret_field.name]),)
        if diffs:
            destination = any(d.field != "health" for d in diffs)
            health = view.health != channel.health
            change = Change("change", "chat channel", channel.name, diffs, loc)
            steps.append(ChannelStep(change, channel, values, destination, health))
    declared = {c.name for c in document.chat.channels}
    for name, gone in stored.items():
        if name not in declared:
            shown = _channel_fields(gone.kind, gone.config, gone.secret_masked)
            diffs = tuple(Diff(f, v, None) for f, v in shown.items())
            change = Change("remove", "chat channel", name, diffs, ("chat", "channels"))
            steps.append(ChannelStep(change, None, {}, False, False))
    return steps


def _destination(
    channel: doc.ChannelBase,
    secrets: Secrets,
    allow_private: bool,
    loc: Loc,
    problems: list[Problem],
) -> tuple[dict[str, Any], Secret | None, dict[str, Any]] | None:
    """The channel's values (its secret in the clear), secret and stored config, as its kind
    checks them; None, with a problem, when it refuses them."""
    values = channel.values()
    reference, secret_field = channel.secret, channel.secret_field
    if reference is not None and secret_field is not None:
        sent = secrets.channels.get(channel.name)
        if sent is None:
            message = f"no {secret_field.label} was sent for channel {channel.name!r}"
            problems.append(Problem((*loc, reference.field), message))
            return None
        values[secret_field.name] = sent.reveal()
    try:
        destination = CHAT[channel.kind].validate(values, allow_private=allow_private)
    except InvalidDestination as exc:
        named = exc.field
        rest = str(exc).removeprefix(f"{named}: ")
        if secret_field is not None and reference is not None and named == secret_field.name:
            problems.append(Problem((*loc, reference.field), f"{reference.value}: {rest}"))
        elif rest and named in values:
            problems.append(Problem((*loc, named), rest))
        else:
            problems.append(Problem(loc, str(exc)))
        return None
    return values, destination.secret, destination.config


def _channel_fields(kind: str, config: Mapping[str, Any], secret: str | None) -> dict[str, str]:
    shown = {"kind": kind}
    channel = CHAT.get(kind)
    for field_ in () if channel is None else channel.fields:
        if field_.secret:
            shown[field_.name] = secret or "none"
        else:
            value = config.get(field_.name)
            shown[field_.name] = ", ".join(value) if isinstance(value, list) else str(value)
    return shown


# suppression windows


def _windows(
    connection: Connection, document: doc.Document, now: datetime, notes: list[str]
) -> list[WindowStep]:
    stored = suppressions.list_windows(connection, now=now)
    unmatched = list(stored)
    steps = []
    for at, window in enumerate(document.suppressions):
        loc: Loc = ("suppressions", at)
        if window.ends_at <= now:
            path = Problem(loc, "").path
            notes.append(
                f"{path}: ended at {format_rfc3339(window.ends_at)}; skipped (remove it from "
                "the file)"
            )
            continue
        same = next((w for w in unmatched if _same(w, window)), None)
        if same is not None:
            unmatched.remove(same)
            continue
        diffs = (
            Diff("starts_at", None, format_rfc3339(window.starts_at)),
            Diff("ends_at", None, format_rfc3339(window.ends_at)),
            Diff("reason", None, window.reason.strip()),
        )
        change = Change("create", "suppression window", window.connector, diffs, loc)
        steps.append(WindowStep(change, window))
    for view in unmatched:
        ended = (Diff("ends_at", format_rfc3339(view.ends_at), "now"),)
        name = f"#{view.id} on {view.connector}"
        change = Change("remove", "suppression window", name, ended, ("suppressions",))
        steps.append(WindowStep(change, None, view.id))
    return steps


def _same(view: suppressions.WindowView, window: doc.Window) -> bool:
    return (view.connector, view.starts_at, view.ends_at, view.reason) == (
        window.connector,
        window.starts_at,
        window.ends_at,
        window.reason.strip(),
    )

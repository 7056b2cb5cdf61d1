"""Slack and email channels, and the ordered rules choosing them: the one write path.

A Slack webhook URL is a secret: stored encrypted, shown only masked (its last 4
characters), never echoed in an error. Errors, each a `NotifyConfigError` whose message says
what to do:

    NotifyConfigError
      ├── InvalidChannel (also a ValueError) — a bad name, kind, webhook URL or address
      ├── InvalidRules (also an ordered_rules.InvalidList, a ValueError) — the rule list is
      │   wrong; `errors` names each problem
      ├── DuplicateChannel — the name is taken
      ├── UnknownChannel (also a LookupError) — no channel by that name
      └── ChannelInUse — removal refused: rules still name it
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from rbtk.admin.connectors import masked
from rbtk.routing import ordered as ordered_rules
from rbtk.routing.chat import NotifyRule, load_rules
from rbtk.routing.ordered import InvalidList
from rbtk.runtime import addresses
from rbtk.runtime.secrets import Secret, Vault
from rbtk.store.tables import notify_channels, notify_rules

KINDS = ("slack", "email")
MAX_NAME = 64
MAX_URL = 2048
MAX_ADDRESS = 254
MAX_RECIPIENTS = 50
SLACK_EXAMPLE = "https://hooks.slack.com/services/T000/B000/XXXX"

_NAME = re.compile(r"[a-z0-9][a-z0-9-]*", re.ASCII)
# One address, no display name: what SMTP's RCPT TO takes.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"[^@\s<>(),;:\"]+@{_LABEL}(?:\.{_LABEL})*", re.ASCII)


class NotifyConfigError(Exception):
    pass


class InvalidChannel(NotifyConfigError, ValueError):
    pass


class InvalidRules(NotifyConfigError, InvalidList):
    pass


class DuplicateChannel(NotifyConfigError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a channel named {name!r} already exists")


class UnknownChannel(NotifyConfigError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no notification channel named {name!r}")
        self.name = name


class ChannelInUse(NotifyConfigError):
    def __init__(self, name: str, positions: Sequence[int]) -> None:
        where = ", ".join(str(p) for p in positions)
        plural = "rule" if len(positions) == 1 else "rules"
        super().__init__(
            f"channel {name!r} is named by the notification {plural} at position {where}: "
            f"remove it from {'that rule' if len(positions) == 1 else 'those rules'} first"
        )


@dataclass(frozen=True)
class ChannelView:
    """A channel as it may be shown anywhere: the webhook only ever masked."""

    name: str
    kind: str
    webhook_masked: str | None
    recipients: list[str] | None
    rules: list[int]  # positions of the rules naming it
    created_at: datetime


# validation


def validate_name(name: str) -> str:
    if not name:
        raise InvalidChannel("name: must not be empty; use a slug such as 'ops-slack'")
    if len(name) > MAX_NAME:
        raise InvalidChannel(f"name: must be at most {MAX_NAME} characters, got {len(name)}")
    if not _NAME.fullmatch(name):
        raise InvalidChannel(
            f"name: {name!r} is not a lower-case slug: use a-z, 0-9 and '-', starting with a "
            "letter or digit, e.g. 'ops-slack'"
        )
    return name


def validate_webhook(url: str, *, allow_private: bool) -> Secret:
    """An https URL of a public host, as a Secret; the message never repeats the URL.

    Unless `allow_private`, the host is resolved and every address it resolves to must be
    public (not loopback, private, link-local, metadata...): a webhook must not become a way
    into the internal network. The check is made again at every send (`rbtk.delivery.http`), since
    a name can resolve elsewhere later. A name that does not resolve is refused: it cannot
    be checked, and every message to it would fail; the message says so rather than letting
    the first Slack message fail later.
    """
    expected = f"expected a Slack incoming webhook URL such as {SLACK_EXAMPLE}"
    if not url:
        raise InvalidChannel(f"webhook_url: is empty; {expected}")
    if url.strip() != url or any(c.isspace() for c in url):
        raise InvalidChannel(f"webhook_url: has spaces or line breaks in it; {expected}")
    if len(url) > MAX_URL:
        raise InvalidChannel(f"webhook_url: is over {MAX_URL} characters; {expected}")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidChannel(f"webhook_url: is not a valid URL; {expected}") from None
    if parts.scheme not in ("http", "https"):
        start = (
            f"starts with {parts.scheme + ':'!r}, not" if parts.scheme else "does not start with"
        )
        raise InvalidChannel(f"webhook_url: {start} https://; {expected}")
    if not host:
        raise InvalidChannel(f"webhook_url: has no host; {expected}")
    if allow_private:
        return Secret(url)
    if parts.scheme != "https":
        raise InvalidChannel(
            "webhook_url: starts with 'http:', not https://: webhooks are sent only over https "
            f"(plain http only with RBTK_ALLOW_PRIVATE_WEBHOOKS=1); {expected}"
        )
    _check_public(host, port)
    return Secret(url)


def _check_public(host: str, port: int) -> None:
    literal = addresses.parse(host)
    if literal is not None:
        found = [literal]
    else:
        try:
            found = addresses.resolve(host, port)
        except (OSError, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise InvalidChannel(
                f"webhook_url: the host {host} does not resolve ({reason}): check the host "
                "name, or try again once DNS answers"
            ) from None
    for address in found:
        kind = addresses.refusal(address)
        if kind is not None:
            raise InvalidChannel(
                f"webhook_url: {addresses.describe(host, address, kind)}; "
                f"webhooks may only reach public addresses ({addresses.ALLOW_HINT})"
            )


def validate_recipients(recipients: Sequence[str]) -> list[str]:
    if not recipients:
        raise InvalidChannel("recipients: give at least one email address")
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidChannel(
            f"recipients: at most {MAX_RECIPIENTS} addresses, got {len(recipients)}; "
            "use a mailing list"
        )
    seen: set[str] = set()
    for address in recipients:
        if len(address) > MAX_ADDRESS or not _ADDRESS.fullmatch(address):
            raise InvalidChannel(
                f"recipients: {address[:80]!r} is not an email address such as "
                "ops@example.com (give each address separately)"
            )
        if address.lower() in seen:
            raise InvalidChannel(f"recipients: {address!r} is listed twice")
        seen.add(address.lower())
    return list(recipients)


# channels


def add_channel(
    connection: Connection,
    *,
    vault: Vault,
    name: str,
    kind: str,
    webhook_url: str | None = None,
    recipients: Sequence[str] | None = None,
    allow_private_webhooks: bool,
    now: datetime,
) -> ChannelView:
    """A Slack channel takes a webhook URL and an email channel recipients, never both.

    The webhook's host is resolved (see `validate_webhook`) before anything is written."""
    validate_name(name)
    values: dict[str, Any]
    if kind == "slack":
        if recipients is not None:
            raise InvalidChannel("recipients: only email channels have recipients")
        if webhook_url is None:
            raise InvalidChannel(f"webhook_url: a Slack channel needs one, e.g. {SLACK_EXAMPLE}")
        secret = validate_webhook(webhook_url, allow_private=allow_private_webhooks)
        values = {"webhook": vault.encrypt(secret), "webhook_last4": secret.reveal()[-4:]}
    elif kind == "email":
        if webhook_url is not None:
            raise InvalidChannel("webhook_url: only Slack channels have a webhook URL")
        if recipients is None:
            raise InvalidChannel("recipients: an email channel needs at least one address")
        values = {"recipients": validate_recipients(recipients)}
    else:
        raise InvalidChannel(f"kind: must be 'slack' or 'email', got {kind!r}")
    if _row(connection, name) is not None:
        raise DuplicateChannel(name)
    try:
        connection.execute(
            insert(notify_channels).values(name=name, kind=kind, created_at=now, **values)
        )
    except IntegrityError:  # another writer took the name between the check and the insert
        raise DuplicateChannel(name) from None
    return get_channel(connection, name=name)


def remove_channel(connection: Connection, *, name: str) -> None:
    """Delete a channel no rule names; its delivery-log rows stay."""
    if _row(connection, name) is None:
        raise UnknownChannel(name)
    naming = _naming(connection).get(name)
    if naming:
        raise ChannelInUse(name, naming)
    connection.execute(delete(notify_channels).where(notify_channels.c.name == name))


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


def replace_rules(
    connection: Connection, rules: Sequence[NotifyRule], *, now: datetime
) -> list[NotifyRule]:
    """Validate the whole ordered list, then make it the rules; a bad list changes nothing.

    A rule without a project or event type matches every event: a catch-all is allowed.
    """
    known = {row.name for row in connection.execute(select(notify_channels.c.name))}
    errors = ordered_rules.rule_errors(rules, known, noun="channel")
    if errors:
        raise InvalidRules(errors)
    ordered_rules.store(connection, notify_rules, rules, now=now)
    return load_rules(connection)


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
    return ChannelView(
        name=row["name"],
        kind=row["kind"],
        webhook_masked=masked(row["webhook_last4"]) if row["kind"] == "slack" else None,
        recipients=list(row["recipients"] or []) if row["kind"] == "email" else None,
        rules=rules,
        created_at=row["created_at"],
    )

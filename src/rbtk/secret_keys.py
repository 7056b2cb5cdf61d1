"""The secret key at rest: checking it at start, rotating it, starting over when it is lost.

Integration keys, incidents' routing keys, Slack webhook URLs and outbox destinations are
stored encrypted with RBTK_SECRET_KEY. A start with another key used to look healthy and
then retry every delivery forever; now a check value (a Fernet token of a fixed text) is
kept with them, and a start whose keys cannot decrypt it is refused with what to do.

    rotate: RBTK_SECRET_KEY=NEW,OLD, `rbtk secrets rotate` (everything re-encrypted with
            NEW in one transaction), then RBTK_SECRET_KEY=NEW.
    reset:  the old key is lost: `rbtk secrets reset` takes every integration key and
            webhook URL again and re-points what was queued with the lost ones.

Errors: SecretKeyMismatch (the configured keys cannot decrypt the stored secrets),
CannotRotate (some stored secret decrypts with none of the keys).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from rbtk.channels import pagerduty
from rbtk.channels.registry import CHAT
from rbtk.outbox.status import FINAL, Status
from rbtk.runtime.secrets import Secret, UndecryptableSecret, Vault
from rbtk.store.tables import (
    connectors,
    incidents,
    notify_channels,
    outbox,
    pagerduty_webhooks,
    secret_key_check,
)

CHECK_TEXT = "rbtk secret key check"
BATCH = 1000

PROBLEM = (
    "the integration keys and webhook URLs stored in the database cannot be decrypted with "
    "RBTK_SECRET_KEY (it is not the key they were encrypted with)"
)
REMEDY = (
    "restore the previous key (RBTK_SECRET_KEY, or secret.key in RBTK_DATA_DIR when "
    "RBTK_SECRET_KEY is unset); to change keys, set RBTK_SECRET_KEY=NEW,OLD and run "
    "'rbtk secrets rotate'; if the old key is lost, run 'rbtk secrets reset' to enter the "
    "integration keys and webhook URLs again"
)
MESSAGE = f"{PROBLEM}, so nothing can be delivered: {REMEDY}"
LOST = "not sent: its destination was encrypted with a secret key that was lost"


class SecretKeyMismatch(Exception):
    def __init__(self) -> None:
        super().__init__(MESSAGE)


class CannotRotate(Exception):
    pass


# the check


def check_token(connection: Connection) -> bytes | None:
    return connection.execute(
        select(secret_key_check.c.token).where(secret_key_check.c.id == 1)
    ).scalar_one_or_none()


def write_check(connection: Connection, vault: Vault, *, now: datetime) -> None:
    """(Re)write the check with the vault's first key."""
    connection.execute(delete(secret_key_check))
    connection.execute(
        insert(secret_key_check).values(
            id=1, token=vault.encrypt(Secret(CHECK_TEXT)), written_at=now
        )
    )


def _decrypts(vault: Vault, token: bytes) -> bool:
    try:
        return vault.decrypt(token).reveal() == CHECK_TEXT
    except UndecryptableSecret:
        return False


def problem(connection: Connection, vault: Vault) -> str | None:
    """What readiness reports when the keys no longer decrypt the stored secrets (another
    instance rotated to a key this one was not given), else None. One read by key."""
    token = check_token(connection)
    return MESSAGE if token is not None and not _decrypts(vault, token) else None


def verify(connection: Connection, vault: Vault, *, now: datetime) -> bool:
    """Raise SecretKeyMismatch unless the keys decrypt the stored secrets. A database without
    a check yet (new, or from before the check) is judged by a sample of its secrets, and
    gets one. Answers whether the secrets are still encrypted with an older key (a rotation
    that `rbtk secrets rotate` has yet to finish)."""
    token = check_token(connection)
    if token is None:
        if not all(vault.can_decrypt(sample) for sample in _samples(connection)):
            raise SecretKeyMismatch()
        write_check(connection, vault, now=now)
        return False
    if not _decrypts(vault, token):
        raise SecretKeyMismatch()
    return not vault.is_current(token)


def verify_at_start(engine: Engine, vault: Vault) -> bool:
    """`verify` in its own transaction; when two instances write the first check at once,
    the one that loses checks against the winner's."""
    try:
        with engine.begin() as connection:
            return verify(connection, vault, now=datetime.now(UTC))
    except IntegrityError:
        with engine.begin() as connection:
            return verify(connection, vault, now=datetime.now(UTC))


def _samples(connection: Connection) -> Iterator[bytes]:
    """Every connector key and webhook, one incident's key, the newest pending delivery's."""
    yield from connection.execute(select(connectors.c.routing_key)).scalars()
    yield from connection.execute(
        select(notify_channels.c.secret).where(notify_channels.c.secret.is_not(None))
    ).scalars()
    yield from connection.execute(select(incidents.c.routing_key).limit(1)).scalars()
    yield from connection.execute(
        select(outbox.c.destination)
        .where(outbox.c.status.not_in(FINAL), func.length(outbox.c.destination) > 0)
        .order_by(outbox.c.id.desc())
        .limit(1)
    ).scalars()


# every stored secret


@dataclass(frozen=True)
class _Column:
    table: Table
    column: str
    extra: tuple[str, ...] = ()  # what reset needs to know of a row


_CONNECTORS = _Column(connectors, "routing_key", ("name",))
_REST_KEYS = _Column(connectors, "rest_key", ("name",))  # optional: reconcile's REST API key
_CHANNELS = _Column(notify_channels, "secret", ("name", "kind"))
_INCIDENTS = _Column(incidents, "routing_key")
_OUTBOX = _Column(outbox, "destination", ("status", "channel", "connector_id", "channel_name"))
# PagerDuty webhook subscriptions' signing secrets, and the one before each
_WEBHOOKS = _Column(pagerduty_webhooks, "secret")
_PREVIOUS_WEBHOOKS = _Column(pagerduty_webhooks, "previous_secret")


def _pages(connection: Connection, spec: _Column) -> Iterator[list[dict[str, Any]]]:
    """The rows holding a secret in this column (their primary key, the token, `extra`), a
    page at a time in primary-key order: the outbox (also the delivery log) is never held in
    memory whole, and each page is read whole, so it can be updated before the next."""
    table = spec.table
    keys = list(table.primary_key.columns)
    column = table.c[spec.column]
    wanted = [*keys, column, *(table.c[name] for name in spec.extra)]
    query = select(*wanted).where(column.is_not(None), func.length(column) > 0).order_by(*keys)
    if len(keys) > 1:  # incidents: one row per open incident, read at once
        rows = [dict(r._mapping) for r in connection.execute(query)]
        if rows:
            yield rows
        return
    last = None
    while True:
        page = query.limit(BATCH) if last is None else query.limit(BATCH).where(keys[0] > last)
        rows = [dict(r._mapping) for r in connection.execute(page)]
        if rows:
            yield rows
        if len(rows) < BATCH:
            return
        last = rows[-1][keys[0].name]


def _rows(connection: Connection, spec: _Column) -> Iterator[dict[str, Any]]:
    for page in _pages(connection, spec):
        yield from page


def _where(spec: _Column, row: Mapping[str, Any]) -> Any:
    return [c == row[c.name] for c in spec.table.primary_key.columns]


@dataclass(frozen=True)
class Rotated:
    """How many stored secrets were re-encrypted with the first key."""

    connectors: int
    channels: int
    incidents: int
    deliveries: int
    rest_keys: int
    webhook_secrets: int = 0


def rotate(connection: Connection, vault: Vault) -> Rotated:
    """Re-encrypt every stored secret and the check with the vault's first key. All or
    nothing: run it in one transaction, which CannotRotate (some secret decrypts with none of
    the keys) must roll back."""
    rotated: dict[bytes, bytes] = {}  # fan-out copies one token into many rows
    counts: dict[_Column, int] = {}
    for spec in (_CONNECTORS, _CHANNELS, _INCIDENTS, _OUTBOX, _REST_KEYS, _WEBHOOKS,
                 _PREVIOUS_WEBHOOKS):  # fmt: skip
        keys = list(spec.table.primary_key.columns)
        statement = (
            update(spec.table)
            .where(*(key == bindparam(f"old_{key.name}") for key in keys))
            .values({spec.column: bindparam("new_token")})
        )
        count = 0
        for page in _pages(connection, spec):
            changes = []
            for row in page:
                token = row[spec.column]
                if token not in rotated:
                    try:
                        rotated[token] = vault.rotate(token)
                    except UndecryptableSecret:
                        raise CannotRotate(
                            "cannot rotate: RBTK_SECRET_KEY decrypts none of its keys for "
                            f"{unreadable(connection, vault)}: add the key it was encrypted "
                            "with to RBTK_SECRET_KEY (after the new one), or run 'rbtk "
                            "secrets reset' to enter it again; nothing was changed"
                        ) from None
                changes.append(
                    {"new_token": rotated[token], **{f"old_{k.name}": row[k.name] for k in keys}}
                )
            connection.execute(statement, changes)
            count += len(changes)
        counts[spec] = count
    write_check(connection, vault, now=datetime.now(UTC))
    return Rotated(
        connectors=counts[_CONNECTORS],
        channels=counts[_CHANNELS],
        incidents=counts[_INCIDENTS],
        deliveries=counts[_OUTBOX],
        rest_keys=counts[_REST_KEYS],
        webhook_secrets=counts[_WEBHOOKS] + counts[_PREVIOUS_WEBHOOKS],
    )


@dataclass
class Unreadable:
    """The stored secrets no configured key decrypts."""

    connectors: list[str] = field(default_factory=list)  # names
    channels: list[str] = field(default_factory=list)  # names
    secret_of: dict[str, str] = field(default_factory=dict)  # "the webhook URL of Slack channel"
    incidents: list[dict[str, Any]] = field(default_factory=list)  # rows
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    rest_keys: list[str] = field(default_factory=list)  # connector names
    webhooks: list[int] = field(default_factory=list)  # connector ids: a secret unreadable
    previous_webhooks: list[int] = field(default_factory=list)  # only the previous one

    def __bool__(self) -> bool:
        return bool(
            self.connectors
            or self.channels
            or self.incidents
            or self.deliveries
            or self.rest_keys
            or self.webhooks
            or self.previous_webhooks
        )

    def __str__(self) -> str:
        parts = [f"the integration key of connector {name!r}" for name in self.connectors]
        parts += [f"the REST API key of connector {name!r}" for name in self.rest_keys]
        parts += [f"{self.secret_of[name]} {name!r}" for name in self.channels]
        if self.incidents:
            parts.append(f"the routing keys of {len(self.incidents)} open incidents")
        if self.deliveries:
            parts.append(f"the destinations of {len(self.deliveries)} deliveries")
        if self.webhooks or self.previous_webhooks:
            count = len(set(self.webhooks) | set(self.previous_webhooks))
            parts.append(f"the webhook secrets of {count} connectors")
        return ", ".join(parts)


def unreadable(connection: Connection, vault: Vault) -> Unreadable:
    """Every stored secret no configured key decrypts (a scan of the whole outbox too)."""
    found = Unreadable()
    for row in _rows(connection, _CONNECTORS):
        if not vault.can_decrypt(row["routing_key"]):
            found.connectors.append(row["name"])
    for row in _rows(connection, _REST_KEYS):
        if not vault.can_decrypt(row["rest_key"]):
            found.rest_keys.append(row["name"])
    for row in _rows(connection, _CHANNELS):
        if not vault.can_decrypt(row["secret"]):
            found.channels.append(row["name"])
            found.secret_of[row["name"]] = secret_of(row["kind"])
    for row in _rows(connection, _INCIDENTS):
        if not vault.can_decrypt(row["routing_key"]):
            found.incidents.append(row)
    for row in _rows(connection, _OUTBOX):
        if not vault.can_decrypt(row["destination"]):
            found.deliveries.append(row)
    for row in _rows(connection, _WEBHOOKS):
        if not vault.can_decrypt(row["secret"]):
            found.webhooks.append(row["connector_id"])
    for row in _rows(connection, _PREVIOUS_WEBHOOKS):
        if not vault.can_decrypt(row["previous_secret"]):
            found.previous_webhooks.append(row["connector_id"])
    return found


@dataclass(frozen=True)
class Reset:
    connectors: int  # keys entered again
    channels: int  # channel secrets (Slack webhook URLs, signing secrets) entered again
    incidents: int  # now resolved with their connector's new key
    requeued: int  # pending deliveries now sent to the new destination
    failed: int  # pending deliveries whose connector or channel is gone: marked failed
    forgotten: int  # finished deliveries whose unreadable destination was dropped


def reset(
    connection: Connection,
    vault: Vault,
    *,
    connector_keys: Mapping[str, Secret],
    channel_secrets: Mapping[str, Secret],
    now: datetime,
) -> Reset:
    """After a lost key: store the values entered again for every connector and chat channel
    the vault cannot decrypt, resolve open incidents with their connector's new key, send
    what was queued to the new destinations, and write the check. A REST API key no key
    decrypts is dropped: reconcile says it is missing until it is entered again. So is a
    webhook subscription whose secret none decrypts (its deliveries are refused until
    `rbtk admin pd webhooks enable` subscribes again), and a previous webhook secret.
    `connector_keys` and `channel_secrets` are validated values, by name; ValueError names
    any unreadable one missing."""
    found = unreadable(connection, vault)
    missing = [f"connector {n!r}" for n in found.connectors if n not in connector_keys]
    missing += [
        f"{found.secret_of[n].partition(' of ')[2]} {n!r}"  # "Slack channel 'ops-slack'"
        for n in found.channels
        if n not in channel_secrets
    ]
    if missing:
        raise ValueError(f"enter these again too: {', '.join(missing)}")
    for name in found.connectors:
        key = connector_keys[name]
        connection.execute(
            update(connectors)
            .where(connectors.c.name == name)
            .values(
                routing_key=vault.encrypt(key),
                key_fingerprint=key.fingerprint,
                key_last4=key.reveal()[-4:],
                updated_at=now,
            )
        )
    if found.rest_keys:  # optional: reconcile asks for it again, as a missing one
        connection.execute(
            update(connectors)
            .where(connectors.c.name.in_(found.rest_keys))
            .values(rest_key=None, rest_key_last4=None, updated_at=now)
        )
    if found.webhooks:
        connection.execute(
            delete(pagerduty_webhooks).where(pagerduty_webhooks.c.connector_id.in_(found.webhooks))
        )
    if found.previous_webhooks:
        connection.execute(
            update(pagerduty_webhooks)
            .where(pagerduty_webhooks.c.connector_id.in_(found.previous_webhooks))
            .values(previous_secret=None)
        )
    for name in found.channels:
        secret = channel_secrets[name]
        connection.execute(
            update(notify_channels)
            .where(notify_channels.c.name == name)
            .values(secret=vault.encrypt(secret), secret_last4=secret.reveal()[-4:])
        )
    keys = {
        r.id: (r.routing_key, r.key_fingerprint)
        for r in connection.execute(
            select(connectors.c.id, connectors.c.routing_key, connectors.c.key_fingerprint)
        )
    }
    hooks = {  # by kind too: a channel removed and added again as another kind is not it
        (r.kind, r.name): r.secret
        for r in connection.execute(
            select(notify_channels.c.kind, notify_channels.c.name, notify_channels.c.secret).where(
                notify_channels.c.secret.is_not(None)
            )
        )
    }
    for row in found.incidents:
        token, fingerprint = keys[row["connector_id"]]
        connection.execute(
            update(incidents)
            .where(*_where(_INCIDENTS, row))
            .values(routing_key=token, key_fingerprint=fingerprint)
        )
    requeued = failed = forgotten = 0
    for row in found.deliveries:
        values: dict[str, Any]
        if row["status"] in FINAL:
            values, forgotten = {"destination": b""}, forgotten + 1
        elif row["channel"] == pagerduty.kind and row["connector_id"] in keys:
            token, fingerprint = keys[row["connector_id"]]
            values, requeued = {"destination": token, "key_fingerprint": fingerprint}, requeued + 1
        elif row["channel"] in CHAT and (row["channel"], row["channel_name"]) in hooks:
            hook = hooks[row["channel"], row["channel_name"]]
            values, requeued = {"destination": hook}, requeued + 1
        else:
            values = {"destination": b"", "status": Status.FAILED.value, "message": LOST}
            values["claimed_until"], failed = None, failed + 1
        connection.execute(update(outbox).where(outbox.c.id == row["id"]).values(values))
    write_check(connection, vault, now=now)
    return Reset(
        len(found.connectors),
        len(found.channels),
        len(found.incidents),
        requeued,
        failed,
        forgotten,
    )


def secret_of(kind: str) -> str:
    """How to name a chat channel's secret: "the webhook URL of Slack channel"."""
    channel = CHAT.get(kind)
    if channel is None:
        return f"the secret of {kind} channel"
    secret = next((f.label for f in channel.fields if f.secret), "secret")
    return f"the {secret[:1].lower()}{secret[1:]} of {channel.label} channel"

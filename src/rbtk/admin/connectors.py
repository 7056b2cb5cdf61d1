"""PagerDuty connectors: the one write path for the API, the CLI and the settings pages.

Errors (under `rbtk.runtime.errors`), each message saying what to do:

    Invalid  ── InvalidConnector — a bad name, key, toggle, region, cap, storm setting or
                                   service id
                  └── InvalidKey — the integration key or REST API key has the wrong shape
                                   (never echoed)
    Conflict ── DuplicateConnector — the name is taken
             ── ConnectorInUse — removal refused: it still has open incidents
             ── ConnectorRouted — removal refused: routing rules still name it
    NotFound ── UnknownConnector — no connector by that name
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import ConfigDict
from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError

from rbtk.admin import audit
from rbtk.admin.connector_settings import (
    ConnectorSettings,
    InvalidConnector,
    columns,
    flat,
    nested,
    parse,
)
from rbtk.admin.routing import ROUTING_TARGET, routing_state
from rbtk.policy.rules import DEFAULT_ENABLED, EVENT_TYPE, Rule
from rbtk.routing import ordered_rules
from rbtk.runtime.errors import Conflict, NotFound
from rbtk.runtime.secrets import MASK, Secret, Vault
from rbtk.store.tables import connectors, incidents, outbox, routing_rules

KEY_LENGTH = 32
REST_API_KEY_LENGTH = 20
MAX_NAME = 64

_KEY = re.compile(r"[A-Za-z0-9]{32}", re.ASCII)
_KEY_CHAR = re.compile(r"[A-Za-z0-9]", re.ASCII)
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*", re.ASCII)
_REST_KEY = re.compile(r"[A-Za-z0-9_+-]{20}", re.ASCII)
_WHERE = "the Integration Key from the service's Events API v2 integration in PagerDuty"


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP  # `update(rest_key=KEEP)`: leave the key as it is (None removes it)
Keep = Literal[_Keep.KEEP]


class InvalidKey(InvalidConnector):
    pass


class DuplicateConnector(Conflict):
    pass


class UnknownConnector(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"no connector named {name!r}")
        self.name = name


class ConnectorInUse(Conflict):
    def __init__(self, name: str, open_incidents: int) -> None:
        plural = "incident" if open_incidents == 1 else "incidents"
        super().__init__(
            f"connector {name!r} still has {open_incidents} open {plural}: wait until "
            f"{'it resolves' if open_incidents == 1 else 'they resolve'}, or remove it with "
            "force (rbtk then forgets them and never sends their resolves)"
        )
        self.open_incidents = open_incidents


class ConnectorRouted(Conflict):
    def __init__(self, name: str, positions: list[int]) -> None:
        where = ", ".join(str(p) for p in positions)
        super().__init__(
            f"connector {name!r} is named by routing rule(s) at position {where}: take it out "
            "of them first, or remove it with force (rbtk then drops it from those rules, "
            "and drops a rule left with no connector)"
        )
        self.positions = positions


@dataclass(frozen=True)
class LastDelivery:
    status: str
    at: datetime


class ConnectorView(ConnectorSettings):
    """A connector as it may be shown anywhere: its settings, the key only ever masked."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    key_masked: str
    key_fingerprint: str
    rules: dict[Rule, bool]
    # Reconcile (rbtk.reconcile): the REST API key masked (None: not set).
    rest_key_masked: str | None
    verified_at: datetime | None  # a test event last seen arrive on the service
    verified_urgency: str | None
    open_incidents: int
    last_delivery: LastDelivery | None
    created_at: datetime
    updated_at: datetime


# validation


def validate_key(text: str) -> Secret:
    """The key as a Secret when it is 32 ASCII letters and digits; else say what it looks like.
    Spaces and line breaks around it are what copying it usually adds: they are dropped."""
    text = text.strip()
    if _KEY.fullmatch(text):
        return Secret(text)
    if len(text) == REST_API_KEY_LENGTH:
        raise InvalidKey(
            "this looks like a REST API key (20 characters): the Events API needs the "
            f"32-character Integration Key instead; copy {_WHERE}",
            field="integration_key",
        )
    if not text:
        raise InvalidKey(
            f"the integration key is empty: expected {_WHERE} (32 letters and digits)",
            field="integration_key",
        )
    received = f"{len(text)} character{'s' if len(text) != 1 else ''}"
    odd = _odd_characters(text)
    if odd:
        received += f", including {odd}"
    raise InvalidKey(
        f"the integration key has {received}: expected exactly {KEY_LENGTH} letters and digits, "
        f"{_WHERE}",
        field="integration_key",
    )


def _odd_characters(text: str) -> str:
    """Describe characters that are not ASCII letters or digits, by kind, never by value."""
    kinds: dict[str, int] = {}
    for char in text:
        if _KEY_CHAR.fullmatch(char):
            continue
        kind = "whitespace" if char.isspace() else "non-ASCII" if ord(char) > 127 else "symbol"
        kinds[kind] = kinds.get(kind, 0) + 1
    parts = [f"{count} {kind}" for kind, count in kinds.items()]
    if not parts:
        return ""
    total = sum(kinds.values())
    return f"{', '.join(parts)} character{'s' if total != 1 else ''}"


def validate_rest_key(text: str) -> Secret:
    """A PagerDuty REST API key: 20 characters (letters, digits, `_`, `+`, `-`)."""
    text = text.strip()
    if _REST_KEY.fullmatch(text):
        return Secret(text)
    if _KEY.fullmatch(text):
        raise InvalidKey(
            "rest_key: this looks like an Integration Key (32 characters): reconcile needs a "
            "REST API key (20 characters) from PagerDuty's Integrations → API Access Keys; "
            "read-only is enough",
            field="rest_key",
        )
    raise InvalidKey(
        f"rest_key: has {len(text)} characters: expected a PagerDuty REST API key of "
        f"{REST_API_KEY_LENGTH} (Integrations → API Access Keys; read-only is enough)",
        field="rest_key",
    )


def validate_name(name: str) -> str:
    if not name:
        raise InvalidConnector(
            "name: must not be empty; use a slug such as 'pd-production'", field="name"
        )
    if len(name) > MAX_NAME:
        raise InvalidConnector(
            f"name: must be at most {MAX_NAME} characters, got {len(name)}", field="name"
        )
    if not _NAME.fullmatch(name):
        raise InvalidConnector(
            f"name: {name!r} is not a lower-case slug: use a-z, 0-9 and '-', starting with a "
            "letter or digit, e.g. 'pd-production'",
            field="name",
        )
    return name


def toggled(
    current: Iterable[Rule], *, enable: Sequence[str] = (), disable: Sequence[str] = ()
) -> frozenset[Rule]:
    """Apply toggles named by rule (`pool_offline`) or by event type (`runner_pool.offline`,
    meaning every rule on that type)."""
    on = _rules_named(enable, "enable")
    off = _rules_named(disable, "disable")
    both = on & off
    if both:
        names = ", ".join(sorted(both))
        # About both lists at once: no one field to name.
        raise InvalidConnector(f"{names}: both enabled and disabled; pick one")
    return (frozenset(current) - off) | on


def _rules_named(names: Sequence[str], field: str) -> frozenset[Rule]:
    found: set[Rule] = set()
    for name in names:
        by_type = {rule for rule, event_type in EVENT_TYPE.items() if event_type == name}
        if name in Rule.__members__.values():
            found.add(Rule(name))
        elif by_type:
            found |= by_type
        else:
            rules = ", ".join(r.value for r in Rule)
            types = ", ".join(sorted(set(EVENT_TYPE.values())))
            raise InvalidConnector(
                f"{field}: {name!r} is not a rule or event type; rules: {rules}; "
                f"event types: {types}",
                field=field,
            )
    return frozenset(found)


# writes


def add(
    connection: Connection,
    *,
    vault: Vault,
    name: str,
    key: str,
    settings: ConnectorSettings | None = None,
    enable: Sequence[str] = (),
    disable: Sequence[str] = (),
    rest_key: str | None = None,
    by: str,
    now: datetime,
) -> ConnectorView:
    """A new connector with `settings` (the defaults when None), its rules the defaults with
    the toggles given, and a REST API key for reconcile when one is given."""
    validate_name(name)
    secret = validate_key(key)
    settings = settings or ConnectorSettings()
    rules = toggled(DEFAULT_ENABLED, enable=enable, disable=disable)
    rest = {} if rest_key is None else _rest_key_columns(vault, rest_key)
    if _row(connection, name) is not None:
        raise DuplicateConnector(f"a connector named {name!r} already exists", field="name")
    try:
        connection.execute(
            insert(connectors).values(
                name=name,
                routing_key=vault.encrypt(secret),
                key_fingerprint=secret.fingerprint,
                key_last4=secret.reveal()[-4:],
                rules=_stored(rules),
                created_at=now,
                updated_at=now,
                **flat(settings),
                **rest,
            )
        )
    except IntegrityError:  # another writer took the name between the check and the insert
        raise DuplicateConnector(
            f"a connector named {name!r} already exists", field="name"
        ) from None
    view = get(connection, name=name)
    audit.record(
        connection,
        by=by,
        action="connector.add",
        target=name,
        before=None,
        after=audited(view),
        at=now,
    )
    return view


def update(
    connection: Connection,
    *,
    vault: Vault,
    name: str,
    key: str | None = None,
    changes: Mapping[str, Any] | None = None,
    enable: Sequence[str] = (),
    disable: Sequence[str] = (),
    rest_key: str | Keep | None = KEEP,
    by: str,
    now: datetime,
) -> ConnectorView:
    """Change what is given: `changes` to the settings, nested as the API writes them
    (`{"storm": {"window_s": 120}}`; a None removes a setting that may be none). A new key
    applies to new incidents only: open ones keep the key that triggered them (stored with the
    incident), so their resolves still reach them. Switching storm collapse off ends an open
    storm: its members still firing are paged one by one. `rest_key`: None removes, KEEP
    leaves."""
    row = _row(connection, name)
    if row is None:
        raise UnknownConnector(name)
    before = _view(row, open_incidents=0, last=None)
    values: dict[str, Any] = {}
    if key is not None:
        secret = validate_key(key)
        values |= {
            "routing_key": vault.encrypt(secret),
            "key_fingerprint": secret.fingerprint,
            "key_last4": secret.reveal()[-4:],
        }
    if enable or disable:
        values["rules"] = _stored(toggled(_rules(row), enable=enable, disable=disable))
    if changes:
        now_set = flat(before)
        wanted = flat(parse(changes, base=before))
        values |= {column: v for column, v in wanted.items() if v != now_set[column]}
    if rest_key is None:
        values |= {"rest_key": None, "rest_key_last4": None}
    elif rest_key is not KEEP:
        values |= _rest_key_columns(vault, rest_key)
    if values:
        connection.execute(
            sql_update(connectors)
            .where(connectors.c.id == row["id"])
            .values(updated_at=now, **values)
        )
    view = get(connection, name=name)
    audit.record(
        connection,
        by=by,
        action="connector.update",
        target=name,
        before=audited(before),
        after=audited(view),
        at=now,
    )
    return view


def _rest_key_columns(vault: Vault, rest_key: str) -> dict[str, Any]:
    secret = validate_rest_key(rest_key)
    return {"rest_key": vault.encrypt(secret), "rest_key_last4": secret.reveal()[-4:]}


def remove(
    connection: Connection, *, name: str, force: bool = False, by: str, now: datetime
) -> int:
    """Delete a connector; answer how many open incidents were forgotten with it.

    Its delivery-log rows stay (they keep the connector's name); rows still pending are
    still sent, so resolves already queued go out. Routing rules changed by force are
    audited as a change of the routing.
    """
    row = _row(connection, name)
    if row is None:
        raise UnknownConnector(name)
    count = _open_incidents(connection, row["id"]).get(row["id"], 0)
    if count and not force:
        raise ConnectorInUse(name, count)
    rules = connection.execute(select(routing_rules).order_by(routing_rules.c.position)).all()
    naming = [(at, rule) for at, rule in enumerate(rules, start=1) if name in rule.connectors]
    if naming and not force:
        raise ConnectorRouted(name, [at for at, _ in naming])
    routed_before = routing_state(connection) if naming else None
    for _, rule in naming:
        rest = [other for other in rule.connectors if other != name]
        where = routing_rules.c.id == rule.id
        if rest:
            connection.execute(sql_update(routing_rules).where(where).values(connectors=rest))
        else:
            connection.execute(delete(routing_rules).where(where))
    ordered_rules.renumber(connection, routing_rules)
    connection.execute(delete(incidents).where(incidents.c.connector_id == row["id"]))
    connection.execute(
        sql_update(outbox).where(outbox.c.connector_id == row["id"]).values(connector_id=None)
    )
    connection.execute(delete(connectors).where(connectors.c.id == row["id"]))
    before = audited(_view(row, open_incidents=count, last=None))
    audit.record(
        connection,
        by=by,
        action="connector.remove",
        target=name,
        before=before | {"open_incidents_forgotten": count} if count else before,
        after=None,
        at=now,
    )
    if routed_before is not None:
        audit.record(
            connection,
            by=by,
            action="routing.replace",
            target=ROUTING_TARGET,
            before=routed_before,
            after=routing_state(connection),
            at=now,
        )
    return count


# reads


def get(connection: Connection, *, name: str) -> ConnectorView:
    row = _row(connection, name)
    if row is None:
        raise UnknownConnector(name)
    return _view(
        row,
        open_incidents=_open_incidents(connection, row["id"]).get(row["id"], 0),
        last=_last_deliveries(connection, name).get(name),
    )


def list_all(connection: Connection) -> list[ConnectorView]:
    rows = [r._mapping for r in connection.execute(select(connectors).order_by(connectors.c.name))]
    if not rows:
        return []
    counts = _open_incidents(connection)
    last = _last_deliveries(connection)
    return [_view(r, open_incidents=counts.get(r["id"], 0), last=last.get(r["name"])) for r in rows]


def stored_key(connection: Connection, *, vault: Vault, name: str) -> Secret | None:
    """The connector's Integration Key as stored (None when there is no such connector): for
    a dry run to take it as unchanged, never to show it."""
    token = connection.execute(
        select(connectors.c.routing_key).where(connectors.c.name == name)
    ).scalar_one_or_none()
    return None if token is None else vault.decrypt(token)


def stored_rest_key(connection: Connection, *, vault: Vault, name: str) -> Secret | None:
    """The connector's REST API key as stored (None when it has none): to tell whether a new
    value is a change, never to show it."""
    token = connection.execute(
        select(connectors.c.rest_key).where(connectors.c.name == name)
    ).scalar_one_or_none()
    return None if token is None else vault.decrypt(token)


def audited(view: ConnectorView) -> dict[str, Any]:
    """What the audit log keeps of a connector: its settings, the keys only masked."""
    return {
        "name": view.name,
        "key": view.key_masked,
        "key_fingerprint": view.key_fingerprint,
        "rules": [rule.value for rule, on in view.rules.items() if on],
        "rest_key": view.rest_key_masked,
        **flat(view),
    }


def masked(last4: str) -> str:
    """The same mask as `Secret.masked`, from the four characters stored for it."""
    return f"{MASK}…{last4}"


def _row(connection: Connection, name: str) -> Any:
    row = connection.execute(select(connectors).where(connectors.c.name == name)).first()
    return None if row is None else row._mapping


def _rules(row: Any) -> frozenset[Rule]:
    return frozenset(Rule(r) for r in row["rules"] if r in Rule.__members__.values())


def _stored(rules: frozenset[Rule]) -> list[str]:
    return [rule.value for rule in Rule if rule in rules]


def _view(row: Any, *, open_incidents: int, last: LastDelivery | None) -> ConnectorView:
    enabled = _rules(row)
    stored = nested({column: row[column] for column in columns()})
    return ConnectorView(
        **stored,
        id=row["id"],
        name=row["name"],
        key_masked=masked(row["key_last4"]),
        key_fingerprint=row["key_fingerprint"],
        rules={rule: rule in enabled for rule in Rule},
        rest_key_masked=masked(row["rest_key_last4"]) if row["rest_key_last4"] else None,
        verified_at=row["verified_at"],
        verified_urgency=row["verified_urgency"],
        open_incidents=open_incidents,
        last_delivery=last,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _open_incidents(connection: Connection, connector_id: int | None = None) -> dict[int, int]:
    query = select(incidents.c.connector_id, func.count()).group_by(incidents.c.connector_id)
    if connector_id is not None:
        query = query.where(incidents.c.connector_id == connector_id)
    return {cid: count for cid, count in connection.execute(query)}


def _last_deliveries(connection: Connection, name: str | None = None) -> dict[str, LastDelivery]:
    """By name, as delivery lanes are: test events are logged without a connector id. Only
    PagerDuty rows name a connector; a chat channel of the same name is not this connector."""
    newest = select(outbox.c.connector_name, func.max(outbox.c.id).label("id"))
    newest = newest.where(
        outbox.c.connector_name.is_not(None) if name is None else outbox.c.connector_name == name
    )
    latest = newest.group_by(outbox.c.connector_name).subquery()
    rows = connection.execute(
        select(
            outbox.c.connector_name,
            outbox.c.status,
            outbox.c.created_at,
            outbox.c.last_attempt_at,
        ).join(latest, outbox.c.id == latest.c.id)
    )
    return {
        r.connector_name: LastDelivery(r.status, r.last_attempt_at or r.created_at) for r in rows
    }

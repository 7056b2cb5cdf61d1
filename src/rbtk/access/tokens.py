"""API tokens: created on the local database (that bootstraps trust), stored only hashed."""

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, Engine, delete, insert, select, update

from rbtk.store.tables import sessions, tokens

PREFIX = "rbtk_"


class Scope(StrEnum):
    ADMIN = "admin"
    EVENTS = "events"


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    scope: Scope
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Caller:
    """Who a live token belongs to: its scope, and its name for the record of changes."""

    scope: Scope
    name: str


def digest(token: str) -> str:
    """What is stored instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create(connection: Connection, *, scope: Scope, name: str, now: datetime) -> tuple[int, str]:
    """Answer the new token's id and its clear text, which is never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    result = connection.execute(
        insert(tokens)
        .values(name=name, scope=scope.value, token_hash=digest(token), created_at=now)
        .returning(tokens.c.id)
    )
    return int(result.scalar_one()), token


def authenticate(connection: Connection, token: str) -> Caller | None:
    return caller_of(connection, digest(token))


def caller_of(connection: Connection, token_digest: str) -> Caller | None:
    """The live token with this digest, or None (unknown or revoked): one indexed read."""
    row = connection.execute(
        select(tokens.c.scope, tokens.c.name).where(
            tokens.c.token_hash == token_digest, tokens.c.revoked_at.is_(None)
        )
    ).first()
    return Caller(Scope(row.scope), row.name) if row else None


class Callers:
    """Live tokens as read within the last `ttl_s`: at most one database read per token per
    second instead of one per request. Tokens are revoked by `rbtk tokens revoke` in another
    process, so nothing here can be told: a revoked token stops working within `ttl_s`.
    Unknown tokens are never remembered, so a token created a moment ago works at once."""

    def __init__(self, ttl_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._live: dict[str, tuple[float, Caller]] = {}  # digest -> (valid until, caller)

    def known(self, token: str) -> Caller | None:
        """The caller if this token was found live within the last `ttl_s`: no database."""
        known = self._live.get(digest(token))
        return known[1] if known is not None and known[0] > self._clock() else None

    def authenticate(self, engine: Engine, token: str) -> Caller | None:
        known = self.known(token)
        if known is not None:
            return known
        token_digest, now = digest(token), self._clock()
        with engine.connect() as connection:
            caller = caller_of(connection, token_digest)
        if caller is None:
            self._live.pop(token_digest, None)
            return None
        if len(self._live) > 1000:  # many tokens in turn: keep only the fresh ones
            self._live = {d: seen for d, seen in self._live.items() if seen[0] > now}
        self._live[token_digest] = (now + self._ttl_s, caller)
        return caller


def list_all(connection: Connection) -> list[TokenInfo]:
    rows = connection.execute(select(tokens).order_by(tokens.c.id))
    return [TokenInfo(r.id, r.name, Scope(r.scope), r.created_at, r.revoked_at) for r in rows]


def revoke(connection: Connection, token_id: int, *, now: datetime) -> bool:
    """Revoke a token; the settings sessions signed in with it end with it."""
    result = connection.execute(
        update(tokens)
        .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    connection.execute(delete(sessions).where(sessions.c.token_id == token_id))
    return result.rowcount > 0

"""Settings-page sessions, kept on the server so that they can be ended.

The browser's cookie carries a random session id (signed, HttpOnly); the database keeps
only its hash, the token signed in with and when the session expires. Every request
resumes the session with one read by primary key, joined to its token: signing out deletes
the row, and revoking the token ends its sessions at once, so a copy of the cookie is
worth nothing afterwards.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from rbtk.access.tokens import Scope, digest
from rbtk.store.tables import sessions, tokens

LIFETIME = timedelta(hours=12)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(connection: Connection, *, token: str, now: datetime) -> str | None:
    """A new session for a live admin token: the id for the cookie. None for any other token.

    Sessions that have expired are cleared on the way (by their expiry index)."""
    row = connection.execute(
        select(tokens.c.id).where(
            tokens.c.token_hash == digest(token),
            tokens.c.revoked_at.is_(None),
            tokens.c.scope == Scope.ADMIN.value,
        )
    ).first()
    if row is None:
        return None
    connection.execute(delete(sessions).where(sessions.c.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    connection.execute(
        insert(sessions).values(
            id_hash=_hash(session_id), token_id=row.id, created_at=now, expires_at=now + LIFETIME
        )
    )
    return session_id


def resume(connection: Connection, session_id: str, *, now: datetime) -> str | None:
    """The name of the admin token a live session was started with, or None."""
    row = connection.execute(
        select(tokens.c.name)
        .select_from(sessions.join(tokens, sessions.c.token_id == tokens.c.id))
        .where(
            sessions.c.id_hash == _hash(session_id),
            sessions.c.expires_at > now,
            tokens.c.revoked_at.is_(None),
            tokens.c.scope == Scope.ADMIN.value,
        )
    ).first()
    return None if row is None else str(row.name)


def end(connection: Connection, session_id: str) -> None:
    connection.execute(delete(sessions).where(sessions.c.id_hash == _hash(session_id)))

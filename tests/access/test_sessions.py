"""Settings-page sessions kept on the server: signing out or revoking the token ends them."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from rbtk.access import sessions, tokens
from rbtk.context import Context
from rbtk.store.tables import sessions as sessions_table

NOON = datetime(2026, 5, 25, 12, 0, tzinfo=UTC)


def admin(context: Context, name: str = "ops") -> str:
    with context.engine.begin() as connection:
        _, token = tokens.create(connection, scope=tokens.Scope.ADMIN, name=name, now=NOON)
    return token


def start(context: Context, token: str, now: datetime = NOON) -> str | None:
    with context.engine.begin() as connection:
        return sessions.start(connection, token=token, now=now)


def resume(context: Context, session_id: str, now: datetime = NOON) -> str | None:
    with context.engine.connect() as connection:
        return sessions.resume(connection, session_id, now=now)


def stored(context: Context) -> int:
    with context.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(sessions_table)).scalar_one()
        )


def test_a_session_started_with_an_admin_token_answers_who_signed_in(context: Context) -> None:
    session_id = start(context, admin(context, "alice"))

    assert session_id is not None
    assert resume(context, session_id) == "alice"


def test_only_a_hash_of_the_session_id_is_stored(context: Context) -> None:
    session_id = start(context, admin(context))
    assert session_id is not None

    with context.engine.connect() as connection:
        row = connection.execute(select(sessions_table)).one()._mapping
    assert session_id not in repr(dict(row))
    assert len(session_id) >= 43  # 32 random bytes


def test_an_events_token_or_an_unknown_token_starts_no_session(context: Context) -> None:
    with context.engine.begin() as connection:
        _, events = tokens.create(connection, scope=tokens.Scope.EVENTS, name="ci", now=NOON)

    assert start(context, events) is None
    assert start(context, "rbtk_not-a-token") is None
    assert stored(context) == 0


def test_ending_a_session_ends_it_at_once_and_only_it(context: Context) -> None:
    token = admin(context)
    first, second = start(context, token), start(context, token)
    assert first is not None and second is not None

    with context.engine.begin() as connection:
        sessions.end(connection, first)

    assert resume(context, first) is None
    assert resume(context, second) == "ops"


def test_revoking_the_token_ends_its_sessions(context: Context) -> None:
    session_id = start(context, admin(context))
    assert session_id is not None

    with context.engine.begin() as connection:
        tokens.revoke(connection, 1, now=NOON)

    assert resume(context, session_id) is None
    assert stored(context) == 0


def test_a_session_lasts_twelve_hours(context: Context) -> None:
    session_id = start(context, admin(context))
    assert session_id is not None

    assert resume(context, session_id, NOON + timedelta(hours=11, minutes=59)) == "ops"
    assert resume(context, session_id, NOON + timedelta(hours=12)) is None


def test_expired_sessions_are_cleared_when_someone_signs_in(context: Context) -> None:
    token = admin(context)
    start(context, token)

    start(context, token, NOON + timedelta(hours=13))

    assert stored(context) == 1


def test_an_unknown_session_id_is_no_session(context: Context) -> None:
    assert resume(context, "made-up") is None

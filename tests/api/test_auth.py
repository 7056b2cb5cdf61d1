"""Bearer tokens: every route but /healthz and /readyz needs one; events tokens only post events."""

from datetime import UTC, datetime
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from rbtk.access import tokens
from rbtk.context import Context
from rbtk.store import tables

EVENT = {
    "id": "evt-1",
    "type": "runner_pool.online",
    "project_slug": "warehouse",
    "occurred_at": "2026-05-25T03:00:00Z",
    "data": {"pool_name": "onprem"},
}

now = partial(datetime.now, UTC)

ADMIN_ROUTES = [
    ("GET", "/api/v1/pagerduty/connectors"),
    ("POST", "/api/v1/pagerduty/connectors"),
    ("GET", "/api/v1/pagerduty/connectors/pd-production"),
    ("PATCH", "/api/v1/pagerduty/connectors/pd-production"),
    ("DELETE", "/api/v1/pagerduty/connectors/pd-production"),
    ("POST", "/api/v1/pagerduty/connectors/pd-production/test"),
    ("GET", "/api/v1/pagerduty/deliveries"),
]
TOKEN_ROUTES = [*ADMIN_ROUTES, ("GET", "/metrics"), ("POST", "/api/v1/events")]
MISSING = (
    "missing bearer token: send 'Authorization: Bearer <token>' "
    "(create one with 'rbtk tokens create')"
)


def ids(routes: list[tuple[str, str]]) -> list[str]:
    return [f"{method} {path}" for method, path in routes]


@pytest.mark.parametrize(("method", "path"), TOKEN_ROUTES, ids=ids(TOKEN_ROUTES))
def test_a_request_without_a_token_is_401(client: TestClient, method: str, path: str) -> None:
    answer = client.request(method, path, json={})

    assert (answer.status_code, answer.json()) == (401, {"detail": MISSING})
    assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), TOKEN_ROUTES, ids=ids(TOKEN_ROUTES))
def test_a_request_with_an_unknown_token_is_401(client: TestClient, method: str, path: str) -> None:
    answer = client.request(
        method, path, json={}, headers={"Authorization": "Bearer rbtk_not-a-real-token"}
    )

    assert (answer.status_code, answer.json()) == (401, {"detail": "invalid or revoked token"})


def test_a_revoked_token_is_401(client: TestClient, context: Context) -> None:
    now = datetime.now(UTC)
    with context.engine.begin() as connection:
        token_id, token = tokens.create(connection, scope=tokens.Scope.ADMIN, name="old", now=now)
        tokens.revoke(connection, token_id, now=now)

    answer = client.get(
        "/api/v1/pagerduty/connectors", headers={"Authorization": f"Bearer {token}"}
    )

    assert (answer.status_code, answer.json()) == (401, {"detail": "invalid or revoked token"})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_token_revoked_while_in_use_is_refused_within_a_second(
    client: TestClient, context: Context
) -> None:
    # Tokens are revoked by `rbtk tokens revoke` in another process: nothing tells the server.
    clock = Clock()
    context.callers = tokens.Callers(ttl_s=1.0, clock=clock)
    with context.engine.begin() as connection:
        token_id, token = tokens.create(connection, scope=tokens.Scope.ADMIN, name="ci", now=now())
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/pagerduty/connectors", headers=headers).status_code == 200
    with context.engine.begin() as connection:
        tokens.revoke(connection, token_id, now=now())

    clock.now += 0.5
    still = client.get("/api/v1/pagerduty/connectors", headers=headers)
    clock.now += 0.6
    refused = client.get("/api/v1/pagerduty/connectors", headers=headers)

    assert still.status_code == 200
    assert (refused.status_code, refused.json()) == (401, {"detail": "invalid or revoked token"})


def test_a_token_created_by_another_process_works_at_once_even_after_a_refusal(
    client: TestClient, context: Context
) -> None:
    token = tokens.PREFIX + "made-elsewhere"
    headers = {"Authorization": f"Bearer {token}"}
    before = client.get("/api/v1/pagerduty/connectors", headers=headers)
    with context.engine.begin() as connection:  # what `rbtk tokens create` stores
        connection.execute(
            tables.tokens.insert().values(
                name="late", scope="admin", token_hash=tokens.digest(token), created_at=now()
            )
        )

    after = client.get("/api/v1/pagerduty/connectors", headers=headers)

    assert (before.status_code, after.status_code) == (401, 200)


def test_a_busy_token_is_read_from_the_database_once_a_second_not_per_request(
    client: TestClient, context: Context, admin_token: str
) -> None:
    context.callers = tokens.Callers(ttl_s=1.0, clock=Clock())
    reads: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM tokens" in statement:
            reads.append(statement)

    event.listen(context.engine, "before_cursor_execute", seen)
    try:
        for _ in range(20):
            client.get(
                "/api/v1/pagerduty/connectors", headers={"Authorization": f"Bearer {admin_token}"}
            )
    finally:
        event.remove(context.engine, "before_cursor_execute", seen)

    assert len(reads) == 1


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES, ids=ids(ADMIN_ROUTES))
def test_an_events_token_is_403_on_admin_routes(
    client: TestClient, events_token: str, method: str, path: str
) -> None:
    answer = client.request(
        method, path, json={}, headers={"Authorization": f"Bearer {events_token}"}
    )

    assert (answer.status_code, answer.json()) == (
        403,
        {"detail": "this token may only post events"},
    )


def test_an_events_token_may_post_events(client: TestClient, events_token: str) -> None:
    answer = client.post(
        "/api/v1/events", json=EVENT, headers={"Authorization": f"Bearer {events_token}"}
    )

    assert (answer.status_code, answer.json()) == (
        202,
        {"index": 0, "id": "evt-1", "status": "accepted"},
    )


def test_an_events_token_may_scrape_metrics(client: TestClient, events_token: str) -> None:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {events_token}"})

    assert answer.status_code == 200


def test_an_admin_token_may_use_admin_routes_and_post_events(
    client: TestClient, admin_token: str
) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}

    listed = client.get("/api/v1/pagerduty/connectors", headers=headers)
    posted = client.post("/api/v1/events", json=EVENT, headers=headers)

    assert (listed.status_code, listed.json()) == (200, {"connectors": []})
    assert posted.status_code == 202


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_routes_need_no_token(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200

"""Events and connectors for service-level tests."""

from datetime import datetime, timedelta
from typing import Any

from rbtk.outbox import rows
from rbtk.policy.rules import DEFAULT_ENABLED, Rule
from rbtk.runtime.context import Context
from rbtk.runtime.secrets import Secret
from rbtk.store.tables import connectors, routing_rules, suppressions

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"


def add_connector(
    context: Context,
    name: str = "pd-production",
    key: str = KEY,
    *,
    rules: frozenset[Rule] = DEFAULT_ENABLED,
    is_default: bool = True,
    max_severity: str | None = None,
    now: datetime,
) -> int:
    secret = Secret(key)
    with context.engine.begin() as connection:
        result = connection.execute(
            connectors.insert()
            .values(
                name=name,
                routing_key=context.vault.encrypt(secret),
                key_fingerprint=secret.fingerprint,
                key_last4=key[-4:],
                region="us",
                rules=sorted(rules),
                send_info=False,
                is_default=is_default,
                max_severity=max_severity,
                created_at=now,
                updated_at=now,
            )
            .returning(connectors.c.id)
        )
        return int(result.scalar_one())


def event(
    event_id: str, event_type: str, at: datetime, project: str = "warehouse", **data: Any
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "project_slug": project,
        "occurred_at": at.isoformat(),
        "data": data,
    }


def pool_offline(
    event_id: str,
    at: datetime,
    pool: str = "onprem-airgapped",
    *,
    airgapped: bool = True,
    project: str = "warehouse",
) -> dict[str, Any]:
    return event(
        event_id,
        "runner_pool.offline",
        at,
        project,
        pool_name=pool,
        pool_type="self-hosted",
        airgapped=airgapped,
        last_heartbeat_at=(at - timedelta(minutes=2)).isoformat(),
        queued_jobs=4,
    )


def pool_online(event_id: str, at: datetime, pool: str = "onprem-airgapped") -> dict[str, Any]:
    return event(event_id, "runner_pool.online", at, pool_name=pool)


def add_route(
    context: Context,
    position: int,
    connectors: list[str],
    *,
    project: str | None = None,
    event_type: str | None = None,
    now: datetime,
) -> None:
    with context.engine.begin() as connection:
        connection.execute(
            routing_rules.insert().values(
                position=position,
                project=project,
                event_type=event_type,
                connectors=connectors,
                created_at=now,
            )
        )


def add_window(
    context: Context,
    connector_id: int,
    starts_at: datetime,
    ends_at: datetime,
    *,
    reason: str = "Maintenance",
    name: str = "pd-production",
) -> int:
    with context.engine.begin() as connection:
        result = connection.execute(
            suppressions.insert()
            .values(
                connector_id=connector_id,
                connector_name=name,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
                created_by="test",
                created_at=starts_at,
            )
            .returning(suppressions.c.id)
        )
        return int(result.scalar_one())


def add_chat_row(
    context: Context,
    channel_name: str,
    *,
    kind: str = "slack",
    dedup_key: str = "rbtk:chat:1",
    now: datetime,
) -> int:
    """A queued chat message for `channel_name`, as chat fan-out builds it; its id."""
    row = rows.chat(
        kind=kind,
        channel_id=1,
        channel_name=channel_name,
        secret=b"gAAAA-encrypted",
        endpoint=kind,
        event_id="chat-1",
        event_type="evidence_pack.generation_failed",
        dedup_key=dedup_key,
        body={"text": "hello"},
        now=now,
    )
    with context.engine.begin() as connection:
        return rows.insert_one(connection, row)

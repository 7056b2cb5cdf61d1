"""Events and connectors for service-level tests."""

from datetime import datetime, timedelta
from typing import Any

from rbtk.admin import connector_settings, connectors, routing, suppressions
from rbtk.admin.connector_settings import ConnectorSettings, Storm
from rbtk.channels.base import Result, Verdict
from rbtk.context import Context
from rbtk.outbox import rows
from rbtk.outbox.queue.claim import claim
from rbtk.outbox.queue.record import record
from rbtk.policy.rules import DEFAULT_ENABLED, Rule
from rbtk.routing import ordered_rules
from rbtk.routing.pagerduty import RouteRule, load_rules

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"
STORMS_BY_DEFAULT = Storm()  # a new connector's: on, 20 within 60 s


def add_connector(
    context: Context,
    name: str = "pd-production",
    key: str = KEY,
    *,
    rules: frozenset[Rule] = DEFAULT_ENABLED,
    is_default: bool = True,
    max_severity: str | None = None,
    region: str = "us",
    storm: Storm = STORMS_BY_DEFAULT,
    now: datetime,
) -> int:
    """Through the one write path, as the API and the pages add connectors; answers its id."""
    with context.engine.begin() as connection:
        view = connectors.add(
            connection,
            vault=context.vault,
            name=name,
            key=key,
            enable=sorted(rules - DEFAULT_ENABLED),
            disable=sorted(DEFAULT_ENABLED - rules),
            settings=ConnectorSettings(
                region=region,
                is_default=is_default,
                max_severity=max_severity,
                storm=storm,
            ),
            by="test",
            now=now,
        )
    return view.id


def settings_from(options: dict[str, Any]) -> ConnectorSettings:
    """Take the settings out of `options` (given by name, as the API gives them), checked as
    the admin functions check them; what is left is for `connectors.add` itself."""
    given = {f: options.pop(f) for f in list(options) if f in ConnectorSettings.model_fields}
    return connector_settings.parse(given)


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


def evidence(
    event_id: str, at: datetime, tag: str, *, failed: bool = True, project: str = "warehouse"
) -> dict[str, Any]:
    """An evidence pack for release `tag` that failed (a critical page), or was generated."""
    if failed:
        return event(
            event_id, "evidence_pack.generation_failed", at, project,
            release_tag=tag, ref="main", error="signing key expired",
        )  # fmt: skip
    return event(event_id, "evidence_pack.generated", at, project, release_tag=tag, ref="main")


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
    """Insert a routing rule at `position`, saving the whole list as the API does."""
    rule = RouteRule(position, project, event_type, tuple(connectors))
    with context.engine.begin() as connection:
        rules = ordered_rules.inserted(load_rules(connection), rule, position=position)
        routing.replace_rules(connection, rules, by="test", now=now)


def add_window(
    context: Context,
    connector: str,
    starts_at: datetime,
    ends_at: datetime,
    *,
    reason: str = "Maintenance",
) -> int:
    """A window on one connector, opened at its start; answers its id."""
    with context.engine.begin() as connection:
        [window] = suppressions.create(
            connection,
            connector=connector,
            all_connectors=False,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            by="test",
            now=starts_at,
        )
    return window.id


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
        project="warehouse",
        dedup_key=dedup_key,
        body={"text": "hello"},
        now=now,
    )
    with context.engine.begin() as connection:
        return rows.insert_one(connection, row)


def send_everything(context: Context, at: datetime) -> None:
    """What a delivery worker does when every destination accepts: claim each row that may go
    now and record it sent. A trigger then counts as sent when its resolve is queued."""
    with context.engine.begin() as connection:
        taken = claim(connection, now=at, limit=10_000, lease=timedelta(minutes=1), rates={})
        record(
            connection,
            [(row, Result(Verdict.SENT, 202, "Event processed")) for row in taken],
            now=at,
            settings=context.settings,
        )

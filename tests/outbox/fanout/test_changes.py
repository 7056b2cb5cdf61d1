"""Release change events: to the connectors that take the project's pages and have them on,
sent by the Change Events API beside each one's Events API URL; never a page."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from rbtk.admin import connectors
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.policy.rules import DEFAULT_ENABLED
from rbtk.store.tables import events, outbox
from tests.factories import OTHER_KEY, add_connector, add_route, event

T0 = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)


def release(event_id: str, project: str = "warehouse", tag: str = "v1.4.0") -> dict[str, Any]:
    return event(event_id, "release.published", T0, project, tag=tag, branch="main")


def changes(context: Context) -> list[tuple[str, str, str, str]]:
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.connector_name, outbox.c.action, outbox.c.endpoint, outbox.c.dedup_key)
            .where(outbox.c.action == "change")
            .order_by(outbox.c.id)
        )
        return [tuple(row) for row in rows]


def test_a_release_goes_to_the_default_connector_as_a_change_event(context: Context) -> None:
    add_connector(context, now=T0)

    ingest(context, [release("rel-1")], T0)

    assert changes(context) == [
        (
            "pd-production",
            "change",
            "http://127.0.0.1:9/v2/change/enqueue",
            "rbtk:change:warehouse:main:v1.4.0",
        )
    ]
    with context.engine.connect() as connection:
        paged = connection.execute(select(events.c.paged).where(events.c.id == "rel-1")).scalar()
    assert paged is False  # a change event is no page


def test_a_connector_with_change_events_off_gets_none(context: Context) -> None:
    add_connector(context, now=T0)
    with context.engine.begin() as connection:
        connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            changes={"change_events": False},
            by="test",
            now=T0,
        )

    ingest(context, [release("rel-1")], T0)

    assert changes(context) == []


def test_a_release_goes_where_the_projects_pages_go(context: Context) -> None:
    add_connector(context, now=T0)
    add_connector(context, "pd-staging", OTHER_KEY, is_default=False, rules=DEFAULT_ENABLED,
                  now=T0)  # fmt: skip
    add_connector(context, "pd-eu", "c" * 32, is_default=False, region="eu", now=T0)
    add_route(context, 1, ["pd-staging"], project="staging-*", now=T0)
    add_route(context, 2, ["pd-eu"], project="warehouse", event_type="runner_pool.*", now=T0)

    ingest(context, [release("rel-1", "staging-east"), release("rel-2", "warehouse")], T0)

    assert [(name, endpoint) for name, _, endpoint, _ in changes(context)] == [
        ("pd-staging", "http://127.0.0.1:9/v2/change/enqueue"),
        # warehouse's pool pages go to pd-eu, its other pages to the default connector
        ("pd-production", "http://127.0.0.1:9/v2/change/enqueue"),
        ("pd-eu", "https://events.eu.pagerduty.com/v2/change/enqueue"),
    ]

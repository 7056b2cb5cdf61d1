"""Suppression windows: creating, listing and ending them, on both databases."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from rbtk.admin import connectors, runbooks, suppressions
from rbtk.admin.connectors import UnknownConnector
from rbtk.admin.suppressions import InvalidWindow, UnknownWindow, WindowEnded, WindowView
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.outbox.fanout.release import release_held
from rbtk.routing import suppression
from rbtk.store import tables
from rbtk.store.tables import outbox

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
NOW = datetime(2026, 5, 24, 22, 0, tzinfo=UTC)
MAY_25 = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)


def add(context: Context, name: str) -> None:
    with context.engine.begin() as connection:
        connectors.add(connection, vault=context.vault, name=name, key=KEY, by="test", now=NOW)


def create(context: Context, **options: Any) -> list[WindowView]:
    arguments: dict[str, Any] = {
        "connector": "pd-production",
        "all_connectors": False,
        "starts_at": None,
        "ends_at": MAY_25,
        "reason": "Maintenance",
        "by": "alice",
        "now": NOW,
    }
    with context.engine.begin() as connection:
        return suppressions.create(connection, **(arguments | options))


def windows(context: Context, now: datetime = NOW, **filters: Any) -> list[WindowView]:
    with context.engine.connect() as connection:
        return suppressions.list_windows(connection, now=now, **filters)


def stored_count(context: Context) -> int:
    with context.engine.connect() as connection:
        return len(list(connection.execute(select(tables.suppressions.c.id))))


@pytest.fixture
def production(context: Context) -> Context:
    add(context, "pd-production")
    return context


# creating


def test_a_window_records_who_created_it_when_and_why(production: Context) -> None:
    [window] = create(production)

    assert window == WindowView(
        id=window.id,
        connector="pd-production",
        starts_at=NOW,
        ends_at=MAY_25,
        reason="Maintenance",
        created_by="alice",
        created_at=NOW,
        ended_early_at=None,
        ended_by=None,
        released_at=None,
    )
    assert window.state(NOW) == "active"


def test_a_window_can_start_later(production: Context) -> None:
    [window] = create(production, starts_at=NOW + timedelta(hours=1))

    assert window.starts_at == NOW + timedelta(hours=1)
    assert window.state(NOW) == "scheduled"
    assert window.state(MAY_25) == "ended"


def test_all_connectors_get_one_window_each(production: Context) -> None:
    add(production, "pd-staging")

    created = create(production, connector=None, all_connectors=True)

    assert [w.connector for w in created] == ["pd-production", "pd-staging"]
    assert {(w.starts_at, w.ends_at, w.reason) for w in created} == {(NOW, MAY_25, "Maintenance")}


def test_the_reason_is_kept_without_surrounding_spaces(production: Context) -> None:
    [window] = create(production, reason="  Rack move \n")

    assert window.reason == "Rack move"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(
            {"ends_at": datetime(2026, 5, 25, 3, 0)},
            "ends_at: has no timezone; add Z or an offset such as +02:00",
            id="naive end",
        ),
        pytest.param(
            {"starts_at": datetime(2026, 5, 24, 23, 0)},
            "starts_at: has no timezone; add Z or an offset such as +02:00",
            id="naive start",
        ),
        pytest.param(
            {"ends_at": NOW - timedelta(minutes=1)},
            "ends_at: 2026-05-24T21:59:00Z is in the past (it is now 2026-05-24T22:00:00Z); "
            "give a time to come",
            id="end in the past",
        ),
        pytest.param(
            {"ends_at": NOW},
            "ends_at: 2026-05-24T22:00:00Z is in the past (it is now 2026-05-24T22:00:00Z); "
            "give a time to come",
            id="end now",
        ),
        pytest.param(
            {"starts_at": MAY_25 + timedelta(hours=1)},
            "ends_at: 2026-05-25T03:00:00Z is not after the start, 2026-05-25T04:00:00Z; "
            "a window must end after it starts",
            id="end before start",
        ),
        pytest.param(
            {"reason": "  "},
            "reason: must not be empty; say why, e.g. 'Maintenance'",
            id="no reason",
        ),
        pytest.param(
            {"reason": "x" * 1001},
            "reason: must be at most 1000 characters, got 1001",
            id="long reason",
        ),
        pytest.param(
            {"connector": None},
            "give the connector to suppress, or all connectors",
            id="no connector",
        ),
        pytest.param(
            {"all_connectors": True},
            "give a connector or all connectors, not both",
            id="both",
        ),
    ],
)
def test_bad_windows_are_refused_and_nothing_is_stored(
    production: Context, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidWindow) as raised:
        create(production, **options)

    assert str(raised.value) == message
    assert stored_count(production) == 0


def test_an_unknown_connector_is_refused(production: Context) -> None:
    with pytest.raises(UnknownConnector) as raised:
        create(production, connector="pd-nope")

    assert str(raised.value) == "no connector named 'pd-nope'"
    assert stored_count(production) == 0


def test_all_connectors_with_none_configured_is_refused(context: Context) -> None:
    with pytest.raises(InvalidWindow) as raised:
        create(context, connector=None, all_connectors=True)

    assert str(raised.value) == "there are no connectors to suppress; add one first"


# listing


def test_the_list_holds_active_and_scheduled_windows_soonest_end_first(
    production: Context,
) -> None:
    [late] = create(production, ends_at=MAY_25 + timedelta(days=1))
    [soon] = create(production)
    [over] = create(production, ends_at=NOW + timedelta(minutes=1))

    later = NOW + timedelta(minutes=5)
    assert [w.id for w in windows(production, later)] == [soon.id, late.id]
    assert [w.id for w in windows(production, later, include_ended=True)] == [
        over.id,
        soon.id,
        late.id,
    ]


def test_the_list_can_hold_one_connectors_windows(production: Context) -> None:
    add(production, "pd-staging")
    create(production, connector=None, all_connectors=True)

    assert [w.connector for w in windows(production, connector="pd-staging")] == ["pd-staging"]


def test_listing_an_unknown_connector_is_refused(production: Context) -> None:
    with pytest.raises(UnknownConnector):
        windows(production, connector="pd-nope")


def test_an_unknown_window_is_named_in_the_error(production: Context) -> None:
    with production.engine.connect() as connection, pytest.raises(UnknownWindow) as raised:
        suppressions.get(connection, 42)

    assert str(raised.value) == "no suppression window #42"


# ending early


def test_ending_early_records_when_and_who_and_ends_it_now(production: Context) -> None:
    [window] = create(production)
    later = NOW + timedelta(minutes=10)

    with production.engine.begin() as connection:
        ended = suppressions.end(connection, window.id, by="alice", now=later)

    assert (ended.ends_at, ended.ended_early_at, ended.state(later)) == (later, later, "ended")
    assert ended.ended_by == "alice"
    with production.engine.connect() as connection:
        assert suppression.load_open(connection, later) == []
        assert [w.id for w in suppression.load_ended(connection, later, 10)] == [window.id]


def test_a_window_that_is_over_cannot_be_ended_again(production: Context) -> None:
    [window] = create(production)

    with production.engine.begin() as connection, pytest.raises(WindowEnded) as raised:
        suppressions.end(connection, window.id, by="ops", now=MAY_25 + timedelta(minutes=1))

    assert str(raised.value) == "suppression window #1 already ended at 2026-05-25T03:00:00Z"
    with production.engine.connect() as connection:
        assert suppressions.get(connection, window.id).ended_early_at is None


def test_ending_an_unknown_window_is_refused(production: Context) -> None:
    with production.engine.begin() as connection, pytest.raises(UnknownWindow):
        suppressions.end(connection, 7, by="ops", now=NOW)


def test_a_trigger_held_by_a_window_ended_early_is_released(production: Context) -> None:
    [window] = create(production)
    failed = {
        "id": "evt-1",
        "type": "evidence_pack.generation_failed",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-24T22:00:00Z",
        "data": {"release_tag": "v1.4.0"},
    }
    ingest(production, [failed], NOW + timedelta(minutes=1))
    later = NOW + timedelta(minutes=2)

    with production.engine.begin() as connection:
        suppressions.end(connection, window.id, by="ops", now=later)
        config = production.snapshots.read(connection)
        queued = release_held(connection, settings=production.settings, config=config, now=later)
        statuses = [
            (row.status, row.suppression_id)
            for row in connection.execute(select(outbox).order_by(outbox.c.id))
        ]

    assert queued == 1
    assert statuses == [("suppressed", window.id), ("queued", None)]


def test_a_trigger_released_when_its_window_ends_links_the_runbook_set_meanwhile(
    production: Context,
) -> None:
    [window] = create(production)
    failed = {
        "id": "evt-1",
        "type": "evidence_pack.generation_failed",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-24T22:00:00Z",
        "data": {"release_tag": "v1.4.0"},
    }
    ingest(production, [failed], NOW + timedelta(minutes=1))
    later = NOW + timedelta(minutes=2)
    runbook = "https://wiki.roboticks.test/runbooks/evidence"

    with production.engine.begin() as connection:
        runbooks.set_url(connection, rule="evidence_pack_failed", url=runbook, by="ops", now=later)
        suppressions.end(connection, window.id, by="ops", now=later)
        config = production.snapshots.read(connection)
        release_held(connection, settings=production.settings, config=config, now=later)
        released = connection.execute(select(outbox.c.body).order_by(outbox.c.id.desc())).first()

    assert released is not None
    assert released.body["links"][-1] == {
        "href": runbook,
        "text": "Runbook: evidence_pack_failed",
    }

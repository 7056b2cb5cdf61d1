"""Every earlier schema upgrades with its data: a database left at any earlier migration,
holding events, a connector, open incidents, delivery rows and a storm, is brought to this
rbtk's schema by `migrate` and served, and the API answers with what it held.

The data is written once, at the newest schema, by the real write path (a connector added,
pools going offline until a storm holds some of them), then taken down to each earlier
revision by the migrations' own downgrades: each revision holds rows in its own shape, as
that release's rbtk would have left them, and what a revision had no column or table for
(a storm before 0008) is not expected back.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from rbtk.access import tokens
from rbtk.admin.connector_settings import Storm
from rbtk.app import create_app
from rbtk.context import Context, open_context
from rbtk.intake.ingest import Acceptance, ingest
from rbtk.store.db import MIGRATIONS, head, migrate, schema_problem
from tests.factories import add_connector, event, pool_offline

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)
EARLIER = sorted(
    script.revision
    for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()
    if script.revision != head()
)
STORMS_FROM = "0008"


def _down_to(context: Context, revision: str) -> None:
    with context.engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _populate(context: Context) -> None:
    """A connector whose storm opens at 3 new incidents; 5 air-gapped pools offline for an
    hour (3 page, then a storm holds 2 and its umbrella pages) and an event of no rule."""
    add_connector(context, storm=Storm(threshold=3, window_s=60), now=T0)
    offline = [pool_offline(f"off-{i}", T0 - timedelta(hours=1), f"pool-{i}") for i in range(5)]
    other = event("deploy-1", "deploy.finished", T0, service="api")
    result = ingest(context, [*offline, other], T0)
    assert result.count(Acceptance.ACCEPTED) == 6, result


def _served(context: Context) -> dict[str, Any]:
    """What the API answers about each kind of data, read through the served app."""
    with context.engine.begin() as connection:
        _, token = tokens.create(connection, scope=tokens.Scope.ADMIN, name="ops", now=T0)
    with TestClient(create_app(context, workers=False)) as client:
        client.headers["Authorization"] = f"Bearer {token}"

        def get(path: str) -> Any:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.text)
            return answer.json()

        return {
            "ready": client.get("/readyz").status_code,
            "events": sorted(e["id"] for e in get("/api/v1/events?limit=100")["events"]),
            "connectors": [
                (c["name"], c["integration_key"])
                for c in get("/api/v1/pagerduty/connectors")["connectors"]
            ],
            "incidents": sorted(i["dedup_key"] for i in get("/api/v1/incidents")["incidents"]),
            "deliveries": sorted(
                (d["dedup_key"], d["action"], d["status"])
                for d in get("/api/v1/pagerduty/deliveries?limit=100")["deliveries"]
            ),
            "storms": [
                (s["dedup_key"], s["state"]) for s in get("/api/v1/pagerduty/storms")["storms"]
            ],
        }


def _expected(at_head: dict[str, Any], revision: str) -> dict[str, Any]:
    """What data left at `revision` serves once upgraded: what it served at the newest
    schema, less what that revision had no table for."""
    expected = dict(at_head)
    if revision < STORMS_FROM:  # no storms then, and so no umbrella incident
        expected["storms"] = []
        incidents = at_head["incidents"]
        expected["incidents"] = [k for k in incidents if not k.startswith("rbtk:storm:")]
    return expected


def test_a_database_left_at_any_earlier_migration_upgrades_with_its_data_and_serves(
    context: Context,
) -> None:
    """One database walked down, newest revision first: left at each revision, upgraded and
    served in turn (what a revision drops, every older one lacks too; one database and one
    data set per kind of database keep the walk to seconds)."""
    _populate(context)
    at_head = _served(context)
    pools = [f"rbtk:pool-offline:warehouse:pool-{i}" for i in range(5)]
    assert set(pools) <= set(at_head["incidents"])
    assert [state for _, state in at_head["storms"]] == ["open"]

    served: dict[str, dict[str, Any]] = {}
    for revision in reversed(EARLIER):
        _down_to(context, revision)
        assert schema_problem(context.engine) is not None
        migrate(context.engine)
        upgraded = open_context(context.settings, migrating=False)
        try:
            served[revision] = _served(upgraded)
        finally:
            upgraded.engine.dispose()

    assert served == {revision: _expected(at_head, revision) for revision in EARLIER}
    assert {answers["ready"] for answers in served.values()} == {200}

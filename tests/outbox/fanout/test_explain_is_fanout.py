"""Explain is the pipeline run dry: for any connectors, toggles, caps, routing rules, windows,
storm settings and open incidents, what "Which connector gets this?" answers for an event is
what fan-out then queues for it, connector by connector, severity and holding included. On
both databases: lanes, windows and storm counts are read from each."""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from rbtk.admin import connectors, routing, suppressions
from rbtk.admin.connector_settings import ConnectorSettings, Storm
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.outbox.fanout.explain import explain_event
from rbtk.policy.engine import Finding
from rbtk.policy.events import parse_event
from rbtk.routing.pagerduty import RouteRule
from rbtk.store.tables import metadata, outbox

NOW = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)
KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
NAMES = ("pd-a", "pd-b", "pd-c")
PROJECTS = ("warehouse", "lab")
POOLS = ("rig-1", "rig-2", "rig-3", "rig-4")
KEPT = {"alembic_version", "config_version", "tokens"}


@dataclass(frozen=True)
class Connector:
    name: str
    disable: tuple[str, ...]
    enable: tuple[str, ...]
    max_severity: str | None
    send_info: bool
    is_default: bool
    storm: int | None  # the storm threshold; None: collapse off
    window: bool  # a suppression window covers it now


connector_specs = st.builds(
    Connector,
    name=st.just(""),
    disable=st.lists(st.sampled_from(["airgapped_pool_offline", "pool_offline",
                                      "evidence_pack_failed"]), unique=True, max_size=1).map(tuple),
    enable=st.lists(st.just("standard_amendment"), max_size=1).map(tuple),
    max_severity=st.sampled_from([None, None, "error", "warning", "info"]),
    send_info=st.booleans(),
    is_default=st.sampled_from([True, True, False]),
    storm=st.sampled_from([None, None, 1, 2]),
    window=st.sampled_from([False, False, True]),
)  # fmt: skip


def pool_offline(
    event_id: str, project: str, pool: str, minutes: int, airgapped: bool
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "runner_pool.offline",
        "project_slug": project,
        "occurred_at": (NOW - timedelta(minutes=minutes)).isoformat(),
        "data": {"pool_name": pool, "pool_type": "self-hosted", "airgapped": airgapped,
                 "last_heartbeat_at": (NOW - timedelta(minutes=minutes)).isoformat(),
                 "queued_jobs": 0},
    }  # fmt: skip


@st.composite
def events(draw: st.DrawFn, event_id: str) -> dict[str, Any]:
    project = draw(st.sampled_from(PROJECTS))
    kind = draw(st.sampled_from(["pool", "pool", "pool", "evidence", "amendment", "online"]))
    if kind == "pool":
        minutes = draw(st.sampled_from([5, 20, 90, 90]))
        pool = draw(st.sampled_from(POOLS))
        return pool_offline(event_id, project, pool, minutes, draw(st.booleans()))
    body: dict[str, Any] = {"id": event_id, "project_slug": project,
                            "occurred_at": (NOW - timedelta(minutes=1)).isoformat()}  # fmt: skip
    if kind == "evidence":
        return body | {"type": "evidence_pack.generation_failed",
                       "data": {"release_tag": "v1", "ref": "main", "error": "boom"}}  # fmt: skip
    if kind == "amendment":
        return body | {"type": "standard.amendment_published",
                       "data": {"standard": "ISO-26262", "amendment": "A2", "title": "t",
                                "url": "https://iso.test/a2", "pinned": True}}  # fmt: skip
    return body | {
        "type": "runner_pool.online",
        "data": {"pool_name": draw(st.sampled_from(POOLS))},
    }


@st.composite
def worlds(
    draw: st.DrawFn,
) -> tuple[list[Connector], list[RouteRule], list[dict[str, Any]], dict[str, Any]]:
    specs = draw(st.lists(connector_specs, min_size=1, max_size=3))
    made = [replace(spec, name=NAMES[i]) for i, spec in enumerate(specs)]
    rules = draw(
        st.lists(
            st.builds(
                RouteRule,
                position=st.just(0),
                project=st.sampled_from([None, *PROJECTS]),
                event_type=st.sampled_from([None, "runner_pool.*", "evidence_pack.*"]),
                targets=st.lists(st.sampled_from([c.name for c in made]), min_size=1,
                                    unique=True).map(tuple),
            ).filter(lambda r: r.project is not None or r.event_type is not None),
            max_size=2,
        )
    )  # fmt: skip
    ordered = [RouteRule(i + 1, r.project, r.event_type, r.connectors) for i, r in enumerate(rules)]
    before = [draw(events(f"before-{i}")) for i in range(draw(st.integers(0, 4)))]
    return made, ordered, before, draw(events("subject"))


def _wipe(context: Context) -> None:
    with context.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name not in KEPT:
                connection.execute(delete(table))


def _set_up(context: Context, made: list[Connector], rules: list[RouteRule]) -> None:
    with context.engine.begin() as connection:
        for spec in made:
            connectors.add(
                connection, vault=context.vault, name=spec.name, key=KEY,
                enable=spec.enable, disable=spec.disable,
                settings=ConnectorSettings(
                    max_severity=spec.max_severity, send_info=spec.send_info,
                    is_default=spec.is_default,
                    storm=Storm(collapse=spec.storm is not None,
                                threshold=spec.storm or 20, window_s=60),
                ),
                by="test", now=NOW - timedelta(hours=2),
            )  # fmt: skip
            if spec.window:
                suppressions.create(
                    connection, connector=spec.name, all_connectors=False,
                    starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1),
                    reason="Maintenance", by="test", now=NOW - timedelta(hours=1),
                )  # fmt: skip
        routing.replace_rules(connection, rules, by="test", now=NOW - timedelta(hours=2))


def _said(context: Context, subject: dict[str, Any]) -> Counter[tuple[str, str, bool]]:
    with context.engine.connect() as connection:
        explanation = explain_event(
            connection, parse_event(subject), settings=context.settings, now=NOW
        )
    return Counter(
        (check.connector, check.severity.value, check.held is not None)
        for check in explanation.checks
        if check.sent and check.policy.finding is Finding.PAGES
    )


def _queued(context: Context, event_id: str) -> Counter[tuple[str, str, bool]]:
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.connector_name, outbox.c.severity, outbox.c.status).where(
                outbox.c.event_id == event_id, outbox.c.action == "trigger"
            )
        ).all()
    return Counter((name, severity, status == "suppressed") for name, severity, status in rows)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(worlds())
def test_explain_answers_what_fan_out_then_queues(
    context: Context,
    paging: tuple[list[Connector], list[RouteRule], list[dict[str, Any]], dict[str, Any]],
) -> None:
    made, rules, before, subject = paging
    _wipe(context)
    _set_up(context, made, rules)
    if before:
        ingest(context, before, NOW)

    said = _said(context, subject)
    ingest(context, [subject], NOW)

    assert said == _queued(context, subject["id"]), (
        f"rules {rules}, before {[(e['type'], e['data']) for e in before]}"
    )

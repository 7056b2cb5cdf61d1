"""Prometheus metrics: process counters, plus what waits in the outbox, read per scrape.

The counters live in a registry of their own (not prometheus-client's global one), and the
database figures are collected by a collector made for each scrape, so creating several apps
in one process never registers a metric twice.

Notifications are labelled by `kind` (pagerduty, slack, email, webhook) and by where they
went: `connector` for PagerDuty rows, `channel` (a chat channel's name) for chat rows; the
label a row has no value for is empty, which Prometheus reads as absent.

Every label combination of the delivery counters is set to 0 for each configured connector
and chat channel before it sends anything (`expect_configured`), as Alertmanager does for its
integrations: a ratio or an `increase()` over a counter that appears only with its first
failure sees no change, so the alert rules (deploy/prometheus/) would miss that failure.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from rbtk.channels import pagerduty
from rbtk.channels.base import Result, Verdict
from rbtk.intake.ingest import Acceptance, BatchResult
from rbtk.outbox.log import undelivered
from rbtk.outbox.status import PENDING
from rbtk.reconcile.summary import Summary, latest_of_each
from rbtk.routing.snapshot import Snapshot
from rbtk.store.tables import outbox, storms

CONTENT_TYPE = CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS = Counter(
    "rbtk_events",
    "Platform events received, by result.",
    ["result"],
    registry=REGISTRY,
)
for _acceptance in Acceptance:
    EVENTS.labels(_acceptance.value)

# Counted by rbtk serve, which restarts its delivery process when it dies: a process that
# keeps dying delivers little, yet /readyz is down only for the seconds of each restart.
DELIVERY_RESTARTS = Counter(
    "rbtk_delivery_process_restarts",
    "Times rbtk serve restarted its delivery process after it exited on its own.",
    registry=REGISTRY,
)

# The process that sends counts these: under `rbtk serve`, its delivery process, which
# hands them to the API process in a file (`write_delivery`, `render(delivery=...)`).
DELIVERY_REGISTRY = CollectorRegistry(auto_describe=True)

DELIVERIES = Counter(
    "rbtk_deliveries",
    "Delivery attempts, by kind, connector or chat channel, and verdict (sent, retry, failed).",
    ["kind", "connector", "channel", "verdict"],
    registry=DELIVERY_REGISTRY,
)

DELIVERY_LATENCY = Histogram(
    "rbtk_delivery_latency_seconds",
    "Time from sending a notification to the channel's answer.",
    ["kind", "connector", "channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=DELIVERY_REGISTRY,
)


FAILURES = Counter(
    "rbtk_delivery_failures",
    "Delivery attempts that did not deliver, by kind, connector or chat channel, and reason "
    "(refused: not retried; endpoint_down: a 5xx, a timeout, no connection; throttled: the "
    "rest, retried: a 429 or a send rbtk could not make).",
    ["kind", "connector", "channel", "reason"],
    registry=DELIVERY_REGISTRY,
)


class Reason(StrEnum):
    """Why an attempt did not deliver, in the words the channels' verdicts already give: a
    dashboard groups failures by what an operator does about them, not by status code."""

    REFUSED = "refused"
    ENDPOINT_DOWN = "endpoint_down"
    THROTTLED = "throttled"

    @classmethod
    def of(cls, result: Result) -> "Reason | None":
        if result.verdict is Verdict.SENT:
            return None
        if result.verdict is Verdict.FAILED:
            return cls.REFUSED
        return cls.ENDPOINT_DOWN if result.endpoint_down else cls.THROTTLED


def count_events(result: BatchResult) -> None:
    for acceptance in Acceptance:
        count = result.count(acceptance)
        if count:
            EVENTS.labels(acceptance.value).inc(count)


def observe_delivery(kind: str, connector: str | None, channel: str | None, result: Result) -> None:
    """One answer: `connector` for a PagerDuty row, `channel` for a chat row."""
    where = (kind, connector or "", channel or "")
    DELIVERIES.labels(*where, result.verdict.value).inc()
    reason = Reason.of(result)
    if reason is not None:
        FAILURES.labels(*where, reason.value).inc()
    if result.latency_ms is not None:
        DELIVERY_LATENCY.labels(*where).observe(result.latency_ms / 1000)


def expect_configured(snapshot: Snapshot) -> None:
    """Set every delivery counter of each configured connector and chat channel to 0 where
    it does not exist yet (a counter already counting keeps its count)."""
    places = [(pagerduty.kind, t.name, "") for t in snapshot.targets]
    places += [(c.kind, "", c.name) for c in snapshot.chat_channels]
    for where in places:
        for verdict in Verdict:
            DELIVERIES.labels(*where, verdict.value)
        for reason in Reason:
            FAILURES.labels(*where, reason.value)
        DELIVERY_LATENCY.labels(*where)


class OutboxCollector(Collector):
    """What waits to be sent, by kind, destination and status; outbox depth; the oldest
    pending age; the oldest undelivered critical page; each connector's reconcile; open
    storms (through ix_storms_open: only storms not yet ended).

    Every query reads only rows still to be sent (through ix_outbox_status), so a
    scrape costs the same over a delivery log of ten rows or ten million. What became of
    the rest is counted as it happens (`rbtk_deliveries_total` by verdict)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        notifications = GaugeMetricFamily(
            "rbtk_notifications",
            "Notifications waiting to be sent (queued or retrying), by kind, connector or "
            "chat channel, and status.",
            labels=["kind", "connector", "channel", "status"],
        )
        where = (outbox.c.channel, outbox.c.connector_name, outbox.c.channel_name)
        now = datetime.now(UTC)
        with self.engine.connect() as connection:
            by_status = connection.execute(
                select(*where, outbox.c.status, func.count())
                .where(outbox.c.status.in_(PENDING))
                .group_by(*where, outbox.c.status)
            ).all()
            oldest = connection.execute(
                select(func.min(outbox.c.created_at)).where(outbox.c.status.in_(PENDING))
            ).scalar()
            critical = undelivered.oldest_critical(connection)
            passes = latest_of_each(connection)
            open_storms = connection.execute(
                select(storms.c.connector_name, func.count())
                .where(storms.c.ended_at.is_(None))
                .group_by(storms.c.connector_name)
            ).all()
        depth = 0
        for kind, connector, channel, status, count in by_status:
            notifications.add_metric([kind, connector or "", channel or "", status], count)
            depth += count
        yield notifications
        yield GaugeMetricFamily(
            "rbtk_outbox_depth", "Notifications waiting to be sent (queued or retrying).", depth
        )
        yield GaugeMetricFamily(
            "rbtk_outbox_oldest_pending_age_seconds",
            "Age of the oldest notification still waiting to be sent; 0 when none is.",
            _age(oldest, now),
        )
        yield GaugeMetricFamily(
            "rbtk_oldest_undelivered_critical_seconds",
            "Age of the oldest critical PagerDuty trigger still waiting to be sent (queued or "
            "retrying, not held); 0 when none is.",
            0.0 if critical is None else critical.age_s(now),
        )
        yield from _reconcile(passes)
        storming = GaugeMetricFamily(
            "rbtk_storms_open",
            "Storms open (one umbrella incident holding the connector's new pages), by connector.",
            labels=["connector"],
        )
        for connector, count in open_storms:
            storming.add_metric([connector], count)
        yield storming


def _reconcile(passes: dict[str, Summary]) -> Iterator[Metric]:
    """Each connector's latest reconcile pass (rbtk.reconcile): what it found and did, when,
    and whether it could read PagerDuty at all."""
    families = {
        "found": ("rbtk_reconcile_found", "Disagreements with PagerDuty its last pass found."),
        "fixed": ("rbtk_reconcile_fixed", "Resolves (and pages) its last pass sent again."),
        "left": ("rbtk_reconcile_left", "What its last pass left to the operator."),
    }
    for field, (name, text) in families.items():
        family = GaugeMetricFamily(name, text + " By connector.", labels=["connector"])
        for connector, summary in sorted(passes.items()):
            family.add_metric([connector], getattr(summary, field))
        yield family
    failing = GaugeMetricFamily(
        "rbtk_reconcile_failing",
        "1 when the connector's last reconcile pass could not read PagerDuty's REST API "
        "(a wrong key: see its page), else 0.",
        labels=["connector"],
    )
    last = GaugeMetricFamily(
        "rbtk_reconcile_last_run_timestamp_seconds",
        "When the connector's last reconcile pass finished (Unix time).",
        labels=["connector"],
    )
    for connector, summary in sorted(passes.items()):
        failing.add_metric([connector], 1.0 if summary.error else 0.0)
        last.add_metric([connector], summary.finished_at.timestamp())
    yield failing
    yield last


def _age(since: datetime | None, now: datetime) -> float:
    return 0.0 if since is None else max((now - since).total_seconds(), 0.0)


def render(engine: Engine, *, delivery: Path | None = None) -> bytes:
    """The Prometheus text exposition of the process counters and the outbox figures.
    `delivery`: the file where another process writes its delivery counters (rbtk serve's
    delivery process); without it, this process's own."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(OutboxCollector(engine))
    if delivery is None:
        sent = generate_latest(DELIVERY_REGISTRY)
    else:
        try:
            sent = delivery.read_bytes()
        except FileNotFoundError:  # the delivery process has not written them yet
            sent = b""
    return generate_latest(REGISTRY) + sent + generate_latest(scrape)


def write_delivery(path: Path) -> None:
    """Write this process's delivery counters for another process's /metrics to serve:
    whole or not at all."""
    partial = path.with_name(f"{path.name}.partial")
    partial.write_bytes(generate_latest(DELIVERY_REGISTRY))
    partial.replace(path)

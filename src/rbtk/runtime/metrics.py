"""Prometheus metrics: process counters, plus outbox figures read from the database per scrape.

The counters live in a registry of their own (not prometheus-client's global one), and the
database figures are collected by a collector made for each scrape, so creating several apps
in one process never registers a metric twice.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

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

from rbtk.channels.base import Result
from rbtk.intake.ingest import Acceptance, BatchResult
from rbtk.outbox.queue import PENDING
from rbtk.store.tables import outbox

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

DELIVERIES = Counter(
    "rbtk_deliveries",
    "Delivery attempts, by connector and verdict (sent, retry, failed).",
    ["connector", "verdict"],
    registry=REGISTRY,
)

DELIVERY_LATENCY = Histogram(
    "rbtk_delivery_latency_seconds",
    "Time from sending a notification to the channel's answer.",
    ["connector"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)


def count_events(result: BatchResult) -> None:
    for acceptance in Acceptance:
        count = result.count(acceptance)
        if count:
            EVENTS.labels(acceptance.value).inc(count)


def observe_delivery(connector: str, result: Result) -> None:
    DELIVERIES.labels(connector, result.verdict.value).inc()
    if result.latency_ms is not None:
        DELIVERY_LATENCY.labels(connector).observe(result.latency_ms / 1000)


class OutboxCollector(Collector):
    """Notifications by connector and status, outbox depth and the oldest pending age."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        notifications = GaugeMetricFamily(
            "rbtk_notifications",
            "Notifications in the outbox (the delivery log), by connector and status.",
            labels=["connector", "status"],
        )
        with self.engine.connect() as connection:
            by_status = connection.execute(
                select(outbox.c.connector_name, outbox.c.status, func.count()).group_by(
                    outbox.c.connector_name, outbox.c.status
                )
            ).all()
            oldest = connection.execute(
                select(func.min(outbox.c.created_at)).where(outbox.c.status.in_(PENDING))
            ).scalar()
        depth = 0
        for connector, status, count in by_status:
            notifications.add_metric([connector, status], count)
            if status in PENDING:
                depth += count
        yield notifications
        yield GaugeMetricFamily(
            "rbtk_outbox_depth", "Notifications waiting to be sent (queued or retrying).", depth
        )
        age = 0.0 if oldest is None else (datetime.now(UTC) - oldest).total_seconds()
        yield GaugeMetricFamily(
            "rbtk_outbox_oldest_pending_age_seconds",
            "Age of the oldest notification still waiting to be sent; 0 when none is.",
            max(age, 0.0),
        )


def render(engine: Engine) -> bytes:
    """The Prometheus text exposition of the process counters and the outbox figures."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(OutboxCollector(engine))
    return generate_latest(REGISTRY) + generate_latest(scrape)

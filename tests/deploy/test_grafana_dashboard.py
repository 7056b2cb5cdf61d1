"""deploy/grafana/rbtk-dashboard.json: a dashboard Grafana imports as it is, showing what
the issue asks of it. (test_metric_names holds its queries to what rbtk exposes.)"""

import json
from typing import Any

from tests.deploy.tools import DEPLOY


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DEPLOY / "grafana" / "rbtk-dashboard.json").read_text())
    return loaded


def test_every_panel_asks_the_data_source_chosen_on_import() -> None:
    found = dashboard()
    panels = [p for p in found["panels"] if p["type"] != "row"]

    assert [v["name"] for v in found["templating"]["list"]] == ["datasource", "job"]
    assert len({p["id"] for p in found["panels"]}) == len(found["panels"])
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(set(refs)) == len(refs), panel["title"]
        assert all('job="$job"' in t["expr"] for t in panel["targets"]), panel["title"]


def test_it_shows_received_paged_sent_failures_latency_queue_and_storms() -> None:
    titles = {p["title"] for p in dashboard()["panels"]}

    assert {
        "Events received",
        "Paged",
        "Sent, by connector and chat channel",
        "Failures, by reason",
        "Delivery latency",
        "Queue depth",
        "Storms",
        "Oldest undelivered critical page",
    } <= titles

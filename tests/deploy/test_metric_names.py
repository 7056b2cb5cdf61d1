"""The alert rules and the dashboard name only metrics a running `rbtk serve` exposes, its
exposition passes Prometheus's linter, and its delivery counters are there at 0 before
anything was sent."""

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.tools import DEPLOY, tool
from tests.e2e.conftest import Start
from tests.e2e.test_paging import add_connector
from tests.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# Prometheus's own series, not rbtk's.
PROMETHEUS = {"up"}
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}


def exposed(text: str) -> set[str]:
    """Every series name the exposition offers, samples or not: a family with nothing to
    report yet (no storm open) still declares its name."""
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, [""])}
        names |= {sample.name for sample in family.samples}
    return names


def rule_expressions() -> list[str]:
    document = yaml.safe_load((DEPLOY / "prometheus" / "rbtk-rules.yml").read_text())
    return [rule["expr"] for group in document["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "rbtk-dashboard.json").read_text())
    return [
        target["expr"]
        for panel in _panels(dashboard["panels"])
        for target in panel.get("targets", [])
    ]


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
KEYWORDS |= {"group_left", "group_right"}


def named(expressions: list[str]) -> set[str]:
    """The series names PromQL expressions select: identifiers that are not a function
    (followed by `(`), a keyword, or inside label matchers, a range or a label list."""
    found = set()
    for expression in expressions:
        lists = r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"
        bare = re.sub(rf"\{{[^}}]*\}}|\[[^\]]*\]|{lists}", " ", expression)
        found |= set(re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", bare))
    return found - KEYWORDS - PROMETHEUS


def test_the_rules_and_the_dashboard_name_only_metrics_rbtk_exposes(
    start: Start, admin: dict[str, str]
) -> None:
    with start() as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)
        headers = {"Authorization": f"Bearer {admin['RBTK_TOKEN']}"}
        # Straight to the API: the CLI's own tests cover the command, and a start costs 2 s.
        added = httpx.post(
            f"{service.url}/api/v1/notify/channels",
            json={"name": "ops-mail", "kind": "email", "recipients": ["ops@example.com"]},
            headers=headers,
        )
        assert added.status_code == 201, added.text

        def scrape() -> str:
            return httpx.get(f"{service.url}/metrics", headers=headers).text

        # The delivery process looks for new destinations every few seconds.
        text = wait_for(
            scrape,
            until=lambda text: 'channel="ops-mail"' in text and 'connector="pd-production"' in text,
            timeout_s=20,
            what="the new connector's and channel's counters in /metrics",
        )

    # Prometheus's own linter of an exposition: names, types, units, help texts.
    linted = subprocess.run(
        [tool("promtool", "prometheus"), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (linted.returncode, linted.stdout + linted.stderr) == (0, "")
    names = exposed(text)
    rules, dashboard = named(rule_expressions()), named(dashboard_expressions())
    assert rules and dashboard
    assert rules - names == set()
    assert dashboard - names == set()
    zeros = {
        (family.name, tuple(sorted(sample.labels.items())))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in ("rbtk_deliveries_total", "rbtk_delivery_failures_total")
        and sample.value == 0.0
    }
    for where in (
        (("channel", ""), ("connector", "pd-production"), ("kind", "pagerduty")),
        (("channel", "ops-mail"), ("connector", ""), ("kind", "email")),
    ):
        assert {
            ("rbtk_deliveries", (*where, ("verdict", v))) for v in ("failed", "retry", "sent")
        } <= zeros
        assert {
            ("rbtk_delivery_failures", (*where, ("reason", r)))
            for r in ("endpoint_down", "refused", "throttled")
        } <= zeros

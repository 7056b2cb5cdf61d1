"""deploy/prometheus/rbtk-rules.yml: valid to Prometheus, firing as its recorded series say,
and each alert explained where its runbook link points."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.tools import DEPLOY, DOCS, tool

RULES = DEPLOY / "prometheus" / "rbtk-rules.yml"
RUNBOOK = "https://github.com/roboticks/rbtk/blob/main/docs/monitoring.md#"


def promtool(*args: str, cwd: Path = RULES.parent) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("promtool", "prometheus"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def alerts() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces
    as hyphens."""
    found = set()
    for line in markdown.splitlines():
        heading = re.match(r"#+ (.+)", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            found.add(text.replace(" ", "-"))
    return found


def test_promtool_finds_the_rules_valid() -> None:
    checked = promtool("check", "rules", RULES.name)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout


def test_the_alerts_fire_and_clear_as_the_recorded_series_say() -> None:
    tested = promtool("test", "rules", "rbtk-rules.test.yml")
    print(tested.stdout)  # the run quoted in the change's report

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.strip().endswith("SUCCESS")


def test_the_alerts_are_those_an_operator_needs_each_with_a_severity() -> None:
    assert {rule["alert"]: rule["labels"]["severity"] for rule in alerts()} == {
        "RbtkCannotPage": "critical",
        "RbtkDeliveryFailing": "warning",
        "RbtkReconcileFailing": "warning",
        "RbtkDeliveryProcessRestarting": "warning",
        "RbtkDown": "critical",
        "RbtkStormOpen": "info",
    }


def test_every_alert_says_what_happened_and_links_to_its_runbook_in_the_docs() -> None:
    documented = anchors((DOCS / "monitoring.md").read_text())

    for rule in alerts():
        notes = rule["annotations"]
        assert set(notes) == {"summary", "description", "runbook_url"}, rule["alert"]
        assert notes["runbook_url"] == RUNBOOK + rule["alert"].lower()
        assert rule["alert"].lower() in documented, f"docs/monitoring.md lacks {rule['alert']}"


def test_the_scrape_configuration_the_docs_give_loads_the_rules(tmp_path: Path) -> None:
    [configuration] = [
        block
        for block in re.findall(r"```yaml\n(.*?)```", (DOCS / "monitoring.md").read_text(), re.S)
        if "scrape_configs" in block
    ]
    # Where the docs put Prometheus's token, here a file of this test's own.
    token = tmp_path / "rbtk.token"
    token.write_text("a-token\n")
    configuration = configuration.replace("/etc/prometheus/rbtk.token", str(token))
    (tmp_path / "prometheus.yml").write_text(configuration)
    shutil.copy(RULES, tmp_path / RULES.name)

    checked = promtool("check", "config", "prometheus.yml", cwd=tmp_path)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout

"""`rbtk admin export`: the configuration as YAML, keys only as references and masks."""

import json
from pathlib import Path

import httpx

from tests.cli.conftest import KEY, Rbtk, add_connector

SLACK = "https://hooks.slack.com/services/T0001/B0002/s3cr3tW3bh00kT0k3nXyZ9"
REST_KEY = "u+Rz8pKq3vW9xYb2wxyz"


def configure(api: httpx.Client) -> None:
    add_connector(
        api,
        "pd-production",
        max_severity="error",
        disable=["pool_offline"],
        rest_key=REST_KEY,
        service_id="P1ABCDE",
        repage_resolved_by_hand=True,
    )
    channel = {"name": "ops-slack", "kind": "slack", "webhook_url": SLACK, "health": True}
    assert api.post("/api/v1/notify/channels", json=channel).status_code == 201
    rules = {"rules": [{"position": 1, "project": "ware*", "channels": ["ops-slack"]}]}
    assert api.put("/api/v1/notify/rules", json=rules).status_code == 200


def test_export_prints_the_configuration_as_yaml_naming_keys_by_reference(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    configure(api)

    result = rbtk("admin", "export")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == EXPORTED
    assert KEY not in result.stdout and SLACK not in result.stdout
    assert REST_KEY not in result.stdout


def test_output_json_prints_what_the_api_answers(rbtk: Rbtk, api: httpx.Client) -> None:
    configure(api)

    result = rbtk("admin", "--output", "json", "export")

    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == api.get("/api/v1/config").json()


def test_the_yaml_answer_of_the_api_is_what_export_prints(rbtk: Rbtk, api: httpx.Client) -> None:
    configure(api)

    answer = api.get("/api/v1/config", params={"format": "yaml"})

    assert answer.headers["content-type"] == "application/yaml"
    assert answer.text == rbtk("admin", "export").stdout


def test_an_exported_file_applies_back_as_no_changes(
    rbtk: Rbtk, api: httpx.Client, tmp_path: Path
) -> None:
    configure(api)
    path = tmp_path / "rbtk.yaml"
    path.write_text(rbtk("admin", "export").stdout)
    keys = {
        "PD_PRODUCTION_KEY": KEY,
        "PD_PRODUCTION_REST_KEY": REST_KEY,
        "OPS_SLACK_WEBHOOK_URL": SLACK,
    }

    result = rbtk("admin", "apply", "-f", str(path), env=keys)

    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        f"no changes: rbtk already matches {path}\n",
        "",
    )


EXPORTED = """\
# rbtk configuration. Apply it with: rbtk admin apply -f FILE (add --dry-run to see
# the plan first). It is the whole configuration: what it leaves out is removed.
# Secrets are never written here: set each *_env variable (or name a file with
# *_file) before applying; the comment beside each says which value rbtk holds now.
# Events no routing rule matches go to the connectors with is_default: pd-production.
# Its JSON Schema: rbtk admin schema.
version: 1

pagerduty:
  connectors:
  - name: pd-production
    key_env: PD_PRODUCTION_KEY  # rbtk holds ••••••••…a1b2 (sha256 cdf2d9edf4d9…)
    rest_key_env: PD_PRODUCTION_REST_KEY  # rbtk holds ••••••••…wxyz (sha256 3d49bf6010ea…)
    region: us
    is_default: true
    send_info: false
    change_events: true
    max_severity: error
    storm:
      collapse: true
      threshold: 20
      window_s: 60
    service_id: P1ABCDE
    repage_resolved_by_hand: true
    rules:
      evidence_pack_failed: true
      airgapped_pool_offline: true
      pool_offline: false
      post_release_regression: true
      standard_amendment: false
  routing: []
  runbooks: {}

chat:
  channels:
  - name: ops-slack
    kind: slack
    webhook_url_env: OPS_SLACK_WEBHOOK_URL  # rbtk holds ••••••••…XyZ9 (sha256 6cb5657375ef…)
    health: true
  rules:
  - project: ware*
    channels:
    - ops-slack

suppressions: []
"""

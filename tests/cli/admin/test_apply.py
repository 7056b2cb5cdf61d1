"""`rbtk admin apply -f FILE [--dry-run] [--force]`: the plan, then one transaction; any problem
named with its line, and nothing changed."""

from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import KEY, OTHER_KEY, Rbtk, add_connector

FILE = """\
version: 1
pagerduty:
  connectors:
  - name: pd-production
    key_env: PD_PRODUCTION_KEY
    region: us
  - name: pd-staging
    key_env: PD_STAGING_KEY
    is_default: false
    rules:
      standard_amendment: true
    storm:
      threshold: 50
    max_severity: warning
  routing:
  - project: staging-*
    connectors: [pd-staging]
chat:
  channels:
  - name: ops-mail
    kind: email
    recipients: [ops@example.com]
  rules:
  - event_type: release.*
    channels: [ops-mail]
suppressions: []
"""
KEYS = {"PD_PRODUCTION_KEY": KEY, "PD_STAGING_KEY": OTHER_KEY}
REST_KEY = "u+Rz8pKq3vW9xYb2wxyz"
RECONCILED = FILE.replace(
    "    region: us\n",
    "    region: us\n    rest_key_env: PD_PRODUCTION_REST_KEY\n    service_id: P1ABCDE\n",
)
PLAN = """\
create connector pd-production
    key: ••••••••…a1b2
    region: us
    is_default: true
    send_info: false
    change_events: true
    max_severity: none
    storm.collapse: true
    storm.threshold: 20
    storm.window_s: 60
    service_id: none
    repage_resolved_by_hand: false
    rules.evidence_pack_failed: true
    rules.airgapped_pool_offline: true
    rules.pool_offline: true
    rules.post_release_regression: true
    rules.standard_amendment: false
create connector pd-staging
    key: ••••••••…c9d8
    region: us
    is_default: false
    send_info: false
    change_events: true
    max_severity: warning
    storm.collapse: true
    storm.threshold: 50
    storm.window_s: 60
    service_id: none
    repage_resolved_by_hand: false
    rules.evidence_pack_failed: true
    rules.airgapped_pool_offline: true
    rules.pool_offline: true
    rules.post_release_regression: true
    rules.standard_amendment: true
create routing rule 1
    project: staging-*
    event_type: any
    connectors: pd-staging
create chat channel ops-mail
    kind: email
    recipients: ops@example.com
    health: false
create chat rule 1
    project: any
    event_type: release.*
    channels: ops-mail
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "rbtk.yaml"
    path.write_text(FILE, encoding="utf-8")
    return path


def connectors(api: httpx.Client) -> list[str]:
    return [c["name"] for c in api.get("/api/v1/pagerduty/connectors").json()["connectors"]]


def test_apply_prints_the_plan_and_what_it_changed(
    rbtk: Rbtk, api: httpx.Client, config: Path
) -> None:
    result = rbtk("admin", "apply", "-f", str(config), env=KEYS)

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == PLAN + "applied: 5 created, 0 changed, 0 removed\n"
    assert connectors(api) == ["pd-production", "pd-staging"]
    staging = api.get("/api/v1/pagerduty/connectors/pd-staging").json()
    assert (staging["integration_key"], staging["max_severity"]) == ("••••••••…c9d8", "warning")


def test_applying_the_same_file_again_changes_nothing(rbtk: Rbtk, config: Path) -> None:
    assert rbtk("admin", "apply", "-f", str(config), env=KEYS).exit_code == 0

    result = rbtk("admin", "apply", "-f", str(config), env=KEYS)

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"no changes: rbtk already matches {config}\n"


def test_a_dry_run_prints_the_plan_and_changes_nothing(
    rbtk: Rbtk, api: httpx.Client, config: Path
) -> None:
    result = rbtk("admin", "apply", "-f", str(config), "--dry-run", env=KEYS)

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        PLAN + "plan: 5 to create, 0 to change, 0 to remove; nothing was changed (dry run)\n"
    )
    assert connectors(api) == []


def test_a_changed_key_shows_only_its_masks(rbtk: Rbtk, config: Path) -> None:
    assert rbtk("admin", "apply", "-f", str(config), env=KEYS).exit_code == 0
    fresh = "fedcba9876543210fedcba98765432ff"

    result = rbtk("admin", "apply", "-f", str(config), env={**KEYS, "PD_STAGING_KEY": fresh})

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "change connector pd-staging\n"
        "    key: ••••••••…c9d8 → ••••••••…32ff\n"
        "applied: 0 created, 1 changed, 0 removed\n"
    )
    assert fresh not in result.output


def test_a_file_with_a_bad_value_changes_nothing_and_names_its_line(
    rbtk: Rbtk, api: httpx.Client, config: Path
) -> None:
    config.write_text(FILE.replace("max_severity: warning", "max_severity: huge"))

    result = rbtk("admin", "apply", "-f", str(config), env=KEYS)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {config}:14:19: pagerduty.connectors[1].max_severity: Input should be 'info', "
        "'warning', 'error' or 'critical'\n"
        f"error: nothing was changed: 1 problem in {config}\n"
    )
    assert connectors(api) == []


def test_a_key_variable_that_is_not_set_is_named_with_its_line(
    rbtk: Rbtk, api: httpx.Client, config: Path
) -> None:
    result = rbtk("admin", "apply", "-f", str(config), env={"PD_PRODUCTION_KEY": KEY})

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {config}:8:14: pagerduty.connectors[1].key_env: the environment variable "
        "PD_STAGING_KEY is not set: export it with the secret before applying\n"
        f"error: nothing was changed: 1 problem in {config}\n"
    )
    assert connectors(api) == []


def test_a_refusal_of_the_server_is_named_with_its_line(
    rbtk: Rbtk, api: httpx.Client, config: Path
) -> None:
    config.write_text(FILE.replace("- project: staging-*", "- event_type: runner_pool.ofline"))

    result = rbtk("admin", "apply", "-f", str(config), env=KEYS)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {config}:16:5: pagerduty.routing[0]: event_type 'runner_pool.ofline' is not a "
        "known event type; did you mean 'runner_pool.offline'? (a pattern with * ? or [ "
        "matches several)\n"
        f"error: nothing was changed: 1 problem in {config}\n"
    )
    assert connectors(api) == []


def test_a_key_that_is_not_an_integration_key_is_named_with_its_line(
    rbtk: Rbtk, config: Path
) -> None:
    result = rbtk("admin", "apply", "-f", str(config), env={**KEYS, "PD_STAGING_KEY": "x" * 20})

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {config}:8:14: pagerduty.connectors[1].key_env: the variable PD_STAGING_KEY "
        "does not hold a key: this looks like a REST API key (20 characters): the Events API "
        "needs the 32-character Integration Key instead; copy the Integration Key from the "
        "service's Events API v2 integration in PagerDuty\n"
        f"error: nothing was changed: 1 problem in {config}\n"
    )


def test_a_connector_the_file_leaves_out_is_removed(
    rbtk: Rbtk, api: httpx.Client, config: Path
) -> None:
    add_connector(api, "pd-old", KEY)

    result = rbtk("admin", "apply", "-f", str(config), env=KEYS)

    assert (result.exit_code, result.stderr) == (0, "")
    assert "\nremove connector pd-old\n" in result.stdout
    assert result.stdout.endswith("applied: 5 created, 0 changed, 1 removed\n")
    assert connectors(api) == ["pd-production", "pd-staging"]


def test_a_file_that_is_not_yaml_names_where_it_stops(rbtk: Rbtk, config: Path) -> None:
    config.write_text("version: 1\npagerduty: [\n")

    result = rbtk("admin", "apply", "-f", str(config), env=KEYS)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {config}:3:1: is not valid YAML: expected the node content, but found "
        "'<stream end>'; nothing was changed\n"
    )


def test_a_file_nested_deeper_than_any_configuration_is_refused_in_one_line(
    rbtk: Rbtk, config: Path
) -> None:
    config.write_text("version: 1\npagerduty: " + "[" * 50_000 + "]" * 50_000 + "\n")

    result = rbtk("admin", "apply", "-f", str(config), env=KEYS)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {config}: nests deeper than rbtk reads (a configuration is a few levels "
        "deep); nothing was changed\n"
    )


def test_a_rest_key_is_read_from_the_environment_and_shown_only_masked(
    rbtk: Rbtk, api: httpx.Client, config: Path
) -> None:
    config.write_text(RECONCILED)

    result = rbtk(
        "admin", "apply", "-f", str(config), env={**KEYS, "PD_PRODUCTION_REST_KEY": REST_KEY}
    )

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith(
        "create connector pd-production\n    key: ••••••••…a1b2\n    rest_key: ••••••••…wxyz\n"
    )
    assert "    service_id: P1ABCDE\n" in result.stdout
    assert REST_KEY not in result.output
    production = api.get("/api/v1/pagerduty/connectors/pd-production").json()
    assert (production["rest_key"], production["service_id"]) == ("••••••••…wxyz", "P1ABCDE")


def test_a_rest_key_variable_that_is_not_set_is_named_with_its_line(
    rbtk: Rbtk, api: httpx.Client, config: Path
) -> None:
    config.write_text(RECONCILED)

    result = rbtk("admin", "apply", "-f", str(config), env=KEYS)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {config}:7:19: pagerduty.connectors[0].rest_key_env: the environment variable "
        "PD_PRODUCTION_REST_KEY is not set: export it with the secret before applying\n"
        f"error: nothing was changed: 1 problem in {config}\n"
    )
    assert connectors(api) == []


def test_a_changed_rest_key_shows_only_its_masks_and_a_dropped_one_is_removed(
    rbtk: Rbtk, api: httpx.Client, config: Path
) -> None:
    config.write_text(RECONCILED)
    env = {**KEYS, "PD_PRODUCTION_REST_KEY": REST_KEY}
    assert rbtk("admin", "apply", "-f", str(config), env=env).exit_code == 0
    fresh = "Zq3-Lm8nPb5xRt7vabcd"

    changed = rbtk(
        "admin", "apply", "-f", str(config), env={**env, "PD_PRODUCTION_REST_KEY": fresh}
    )
    config.write_text(RECONCILED.replace("    rest_key_env: PD_PRODUCTION_REST_KEY\n", ""))
    dropped = rbtk("admin", "apply", "-f", str(config), env=KEYS)

    assert (changed.exit_code, changed.stderr) == (0, "")
    assert changed.stdout == (
        "change connector pd-production\n"
        "    rest_key: ••••••••…wxyz → ••••••••…abcd\n"
        "applied: 0 created, 1 changed, 0 removed\n"
    )
    assert fresh not in changed.output
    assert (dropped.exit_code, dropped.stderr) == (0, "")
    assert dropped.stdout == (
        "change connector pd-production\n"
        "    rest_key: ••••••••…abcd → none\n"
        "applied: 0 created, 1 changed, 0 removed\n"
    )
    production = api.get("/api/v1/pagerduty/connectors/pd-production").json()
    assert (production["rest_key"], production["service_id"]) == (None, "P1ABCDE")


UNSET: dict[str, str | None] = dict.fromkeys(
    ("PD_PRODUCTION_KEY", "PD_STAGING_KEY", "PD_PRODUCTION_REST_KEY")
)


def test_a_dry_run_right_after_export_shows_unset_secrets_unchanged_and_says_so(
    rbtk: Rbtk, config: Path, tmp_path: Path
) -> None:
    config.write_text(RECONCILED)
    env = {**KEYS, "PD_PRODUCTION_REST_KEY": REST_KEY}
    assert rbtk("admin", "apply", "-f", str(config), env=env).exit_code == 0
    exported = tmp_path / "exported.yaml"
    exported.write_text(rbtk("admin", "export").stdout)

    dry_run = rbtk("admin", "apply", "-f", str(exported), "--dry-run", env=UNSET)
    applied = rbtk("admin", "apply", "-f", str(exported), env=UNSET)

    unchanged = "is shown unchanged (a dry run; applying needs it)"
    assert (dry_run.exit_code, dry_run.stderr) == (0, "")
    assert dry_run.stdout == (
        f"note: PD_PRODUCTION_KEY is not set: the key of connector 'pd-production' {unchanged}\n"
        "note: PD_PRODUCTION_REST_KEY is not set: the REST API key of connector "
        f"'pd-production' {unchanged}\n"
        f"note: PD_STAGING_KEY is not set: the key of connector 'pd-staging' {unchanged}\n"
        f"no changes: rbtk already matches {exported}\n"
    )
    assert (applied.exit_code, applied.stdout) == (1, "")
    assert applied.stderr.endswith(f"error: nothing was changed: 3 problems in {exported}\n")


def test_a_dry_run_still_needs_the_key_of_a_connector_rbtk_does_not_have(
    rbtk: Rbtk, api: httpx.Client, config: Path
) -> None:
    add_connector(api, "pd-production")

    result = rbtk("admin", "apply", "-f", str(config), "--dry-run", env=UNSET)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {config}:8:14: pagerduty.connectors[1].key_env: no key was sent for "
        "connector 'pd-staging'\n"
        f"error: nothing was changed: 1 problem in {config}\n"
    )

"""Configuration as code, applied: export, apply elsewhere, apply again, remove what is left out.

On SQLite and PostgreSQL: the writes go through `rbtk.admin` in one transaction.
"""

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select

from rbtk.admin import chat_channels, connectors, routing, runbooks, suppressions
from rbtk.admin.connector_settings import ConnectorSettings, Storm
from rbtk.config_file.apply import apply
from rbtk.config_file.document import Document, schema
from rbtk.config_file.export import export, render
from rbtk.config_file.lines import Source
from rbtk.config_file.plan import Plan
from rbtk.config_file.problems import ConfigProblems, Problem
from rbtk.config_file.references import resolve
from rbtk.context import Context, open_context
from rbtk.intake.ingest import ingest
from rbtk.routing.chat import ChatRule
from rbtk.routing.pagerduty import RouteRule
from rbtk.runtime.settings import Settings
from rbtk.store.tables import config_version
from rbtk.store.tables import connectors as connectors_table
from tests.conftest import kind_of
from tests.databases import Templates, copy_of

NOW = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)
KEY = "e93facc04764012d7bfb002500d5a1b2"
OTHER_KEY = "0c8f1d6e2b9a47c3a5f0e1d2c3b4c9d8"
REST_KEY = "u+Rz8pKq3vW9xYb2wxyz"
SLACK = "https://hooks.slack.com/services/T0001/B0002/s3cr3tW3bh00kT0k3nXyZ9"
SIGNING = "a-signing-secret-of-some-length"
ENVIRONMENT = {
    "PD_PRODUCTION_KEY": KEY,
    "PD_STAGING_KEY": OTHER_KEY,
    "PD_PRODUCTION_REST_KEY": REST_KEY,
    "OPS_SLACK_WEBHOOK_URL": SLACK,
    "BUILD_HOOK_SIGNING_SECRET": SIGNING,
}


@pytest.fixture
def elsewhere(settings: Settings, templates: Templates, tmp_path: Path) -> Iterator[Context]:
    """Another rbtk, on a database of the same kind, with a secret key of its own."""
    (tmp_path / "elsewhere").mkdir()
    kind = kind_of(settings.database)
    with copy_of(kind, templates, tmp_path / "elsewhere") as url:
        other = open_context(
            settings.model_copy(
                update={
                    "database_url": url,
                    "data_dir": tmp_path / "elsewhere",
                    "secret_key": SecretStr(Fernet.generate_key().decode()),
                }
            )
        )
        try:
            yield other
        finally:
            other.engine.dispose()


def configure(context: Context) -> None:
    """A configuration with a bit of everything, through the admin write path."""
    with context.engine.begin() as connection:
        connectors.add(
            connection,
            vault=context.vault,
            name="pd-production",
            key=KEY,
            enable=["standard_amendment"],
            disable=["pool_offline"],
            settings=ConnectorSettings(
                send_info=True,
                max_severity="error",
                storm=Storm(collapse=False, threshold=50, window_s=120),
                service_id="P1ABCDE",
                repage_resolved_by_hand=True,
            ),
            rest_key=REST_KEY,
            by="alice",
            now=NOW,
        )
        connectors.add(
            connection,
            vault=context.vault,
            name="pd-staging",
            key=OTHER_KEY,
            settings=ConnectorSettings(region="eu", change_events=False, is_default=False),
            by="alice",
            now=NOW,
        )
        routing.replace_rules(
            connection,
            [
                RouteRule(1, "staging-*", None, ("pd-staging",)),
                RouteRule(2, None, "runner_pool.*", ("pd-production", "pd-staging")),
            ],
            by="alice",
            now=NOW,
        )
        runbooks.set_url(
            connection,
            rule="pool_offline",
            url="https://wiki.example.com/runbooks/pool-offline",
            by="alice",
            now=NOW,
        )
        for name, kind, values, health in (
            ("ops-slack", "slack", {"webhook_url": SLACK}, True),
            ("ops-mail", "email", {"recipients": ["ops@example.com", "qa@example.com"]}, False),
            ("build-hook", "webhook", {"url": "https://hooks.example.com/rbtk",
                                       "signing_secret": SIGNING}, False),
        ):  # fmt: skip
            chat_channels.add_channel(
                connection,
                vault=context.vault,
                name=name,
                kind=kind,
                values=values,
                allow_private_webhooks=True,
                by="alice",
                now=NOW,
                health=health,
            )
        chat_channels.replace_rules(
            connection,
            [
                ChatRule(1, "warehouse", None, ("ops-slack", "build-hook")),
                ChatRule(2, None, None, ("ops-mail",)),
            ],
            by="alice",
            now=NOW,
        )
        suppressions.create(
            connection,
            connector="pd-production",
            all_connectors=False,
            starts_at=NOW - timedelta(hours=1),
            ends_at=NOW + timedelta(hours=2),
            reason="Maintenance",
            by="alice",
            now=NOW,
        )


def exported(context: Context, now: datetime = NOW) -> str:
    with context.reads.connect() as connection:
        return render(export(connection, vault=context.vault, now=now))


def applied(
    context: Context,
    text: str,
    *,
    environ: Mapping[str, str] = ENVIRONMENT,
    dry_run: bool = False,
    force: bool = False,
    now: datetime = NOW,
) -> Plan:
    document = Document.model_validate(Source.read(text, "rbtk.yaml").data)
    secrets = resolve(document, environ=environ, folder=Path("."))
    with context.engine.begin() as connection:
        return apply(
            connection,
            document,
            secrets=secrets,
            vault=context.vault,
            allow_private_webhooks=True,
            force=force,
            by="alice",
            dry_run=dry_run,
            now=now,
        )


def changes(plan: Plan) -> list[tuple[str, str, str]]:
    return [(c.action, c.kind, c.name) for c in plan.changes]


def version(context: Context) -> int:
    with context.engine.connect() as connection:
        return int(connection.execute(select(config_version.c.version)).scalar_one())


def stored(context: Context) -> list[Any]:
    with context.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(select(connectors_table))]


def test_a_configuration_exported_and_applied_elsewhere_exports_the_same(
    context: Context, elsewhere: Context
) -> None:
    configure(context)
    text = exported(context)

    plan = applied(elsewhere, text)

    assert changes(plan) == [
        ("create", "connector", "pd-production"),
        ("create", "connector", "pd-staging"),
        ("create", "routing rule", "1"),
        ("create", "routing rule", "2"),
        ("create", "runbook", "pool_offline"),
        ("create", "chat channel", "build-hook"),
        ("create", "chat channel", "ops-mail"),
        ("create", "chat channel", "ops-slack"),
        ("create", "chat rule", "1"),
        ("create", "chat rule", "2"),
        ("create", "suppression window", "pd-production"),
    ]
    assert exported(elsewhere) == text
    with elsewhere.engine.connect() as connection:
        [window] = suppressions.list_windows(connection, now=NOW)
        production = connectors.get(connection, name="pd-production")
        staging = connectors.get(connection, name="pd-staging")
        rest_key = connectors.stored_rest_key(
            connection, vault=elsewhere.vault, name=production.name
        )
    assert (window.created_by, window.state(NOW)) == ("alice", "active")
    assert rest_key is not None and rest_key.reveal() == REST_KEY
    assert (production.service_id, production.repage_resolved_by_hand) == ("P1ABCDE", True)
    assert (staging.rest_key_masked, staging.service_id, staging.repage_resolved_by_hand) == (
        None,
        None,
        False,
    )


def test_the_export_names_each_secret_by_reference_and_shows_only_its_mask(
    context: Context,
) -> None:
    configure(context)

    text = exported(context)

    assert "    key_env: PD_PRODUCTION_KEY  # rbtk holds ••••••••…a1b2 (sha256 " in text
    assert "    rest_key_env: PD_PRODUCTION_REST_KEY  # rbtk holds ••••••••…wxyz (sha256 " in text
    assert "    webhook_url_env: OPS_SLACK_WEBHOOK_URL  # rbtk holds ••••••••…XyZ9 (sha256 " in text
    assert "    signing_secret_env: BUILD_HOOK_SIGNING_SECRET  # rbtk holds ••••••••…ngth (" in text
    for secret in (KEY, OTHER_KEY, REST_KEY, SLACK, SIGNING):
        assert secret not in text


def test_an_exported_document_is_valid_under_the_published_schema(context: Context) -> None:
    configure(context)
    with context.reads.connect() as connection:
        document = export(connection, vault=context.vault, now=NOW).document

    jsonschema.validate(document, schema())


def test_applying_the_same_file_twice_changes_nothing_the_second_time(context: Context) -> None:
    configure(context)
    text = exported(context)
    before, rows = version(context), stored(context)

    plan = applied(context, text)

    assert (plan.changes, plan.notes) == ([], [])
    assert (version(context), stored(context)) == (before, rows)


def test_a_dry_run_shows_the_plan_and_writes_nothing(context: Context, elsewhere: Context) -> None:
    configure(context)
    text = exported(context)
    before = version(elsewhere)

    plan = applied(elsewhere, text, dry_run=True)

    assert len(plan.changes) == 11
    assert version(elsewhere) == before
    with elsewhere.engine.connect() as connection:
        assert connectors.list_all(connection) == []
        assert chat_channels.list_channels(connection) == []


def test_a_dry_run_takes_each_unset_secret_as_the_one_stored_and_says_so(
    context: Context,
) -> None:
    configure(context)
    document = Document.model_validate(Source.read(exported(context), "rbtk.yaml").data)
    secrets = resolve(document, environ={}, folder=Path("."), allow_unset=True)

    with context.engine.begin() as connection:
        plan = apply(
            connection,
            document,
            secrets=secrets,
            vault=context.vault,
            allow_private_webhooks=True,
            force=False,
            by="alice",
            dry_run=True,
            now=NOW,
        )

    unchanged = "is shown unchanged (a dry run; applying needs it)"
    assert plan.changes == []
    assert plan.notes == [
        f"PD_PRODUCTION_KEY is not set: the key of connector 'pd-production' {unchanged}",
        "PD_PRODUCTION_REST_KEY is not set: the REST API key of connector 'pd-production' "
        + unchanged,
        f"PD_STAGING_KEY is not set: the key of connector 'pd-staging' {unchanged}",
        "BUILD_HOOK_SIGNING_SECRET is not set: the Signing secret of chat channel 'build-hook' "
        + unchanged,
        "OPS_SLACK_WEBHOOK_URL is not set: the Webhook URL of chat channel 'ops-slack' "
        + unchanged,
    ]


def test_an_unchanged_key_is_no_change_and_a_new_one_shows_only_its_masks(
    context: Context,
) -> None:
    configure(context)
    text = exported(context)
    fresh = "fedcba9876543210fedcba98765432ff"

    plan = applied(context, text, environ={**ENVIRONMENT, "PD_STAGING_KEY": fresh})

    [change] = plan.changes
    assert (change.action, change.name) == ("change", "pd-staging")
    assert [d.as_json() for d in change.diffs] == [
        {"field": "key", "before": "••••••••…c9d8", "after": "••••••••…32ff"}
    ]
    with context.engine.connect() as connection:
        assert connectors.get(connection, name="pd-staging").key_masked == "••••••••…32ff"


def test_settings_changed_in_the_file_are_changed_field_by_field(context: Context) -> None:
    configure(context)
    text = exported(context).replace("max_severity: error", "max_severity: warning")
    text = text.replace("pool_offline: false", "pool_offline: true", 1)

    plan = applied(context, text)

    [change] = plan.changes
    assert (change.action, change.kind, change.name) == ("change", "connector", "pd-production")
    assert [(d.field, d.before, d.after) for d in change.diffs] == [
        ("max_severity", "error", "warning"),
        ("rules.pool_offline", "false", "true"),
    ]
    with context.engine.connect() as connection:
        view = connectors.get(connection, name="pd-production")
    assert (view.max_severity, view.send_info, view.storm.threshold) == ("warning", True, 50)


def test_what_the_file_leaves_out_is_removed(context: Context) -> None:
    configure(context)
    document = yaml_document(exported(context))
    document["pagerduty"]["connectors"] = document["pagerduty"]["connectors"][:1]
    document["pagerduty"]["routing"] = [{"project": "ware*", "connectors": ["pd-production"]}]
    document["chat"]["channels"] = [c for c in document["chat"]["channels"] if c["kind"] == "email"]
    document["chat"]["rules"] = [{"channels": ["ops-mail"]}]
    document["suppressions"] = []

    plan = applied(context, dumped(document))

    assert changes(plan) == [
        ("remove", "connector", "pd-staging"),
        ("change", "routing rule", "1"),
        ("remove", "routing rule", "2"),
        ("remove", "chat channel", "build-hook"),
        ("remove", "chat channel", "ops-slack"),
        ("change", "chat rule", "1"),
        ("remove", "chat rule", "2"),
        ("remove", "suppression window", "#1 on pd-production"),
    ]
    with context.engine.connect() as connection:
        assert [v.name for v in connectors.list_all(connection)] == ["pd-production"]
        assert [v.name for v in chat_channels.list_channels(connection)] == ["ops-mail"]
        [window] = suppressions.list_windows(connection, now=NOW, include_ended=True)
    assert (window.ended_by, window.ends_at) == ("alice", NOW)
    assert applied(context, dumped(document)).changes == []


def test_a_connector_left_out_with_open_incidents_is_kept_unless_forced(
    context: Context,
) -> None:
    configure(context)
    text = exported(context)
    ingest(context, [evidence_failed()], NOW)
    document = yaml_document(text)
    document["pagerduty"]["connectors"] = document["pagerduty"]["connectors"][1:]
    document["pagerduty"]["routing"] = []
    document["suppressions"] = []
    before = version(context)

    with pytest.raises(ConfigProblems) as refused:
        applied(context, dumped(document))

    assert refused.value.problems == [
        Problem(
            ("pagerduty", "connectors"),
            "connector 'pd-production' is not in the file, so it would be removed, but it still "
            "has 1 open incident: keep it in the file until they resolve, or apply with --force "
            "to remove it anyway (rbtk then forgets them and never sends their resolves)",
        )
    ]
    assert version(context) == before
    plan = applied(context, dumped(document), force=True)
    assert ("remove", "connector", "pd-production") in changes(plan)
    with context.engine.connect() as connection:
        assert [v.name for v in connectors.list_all(connection)] == ["pd-staging"]


def test_a_refusal_of_the_write_path_names_the_rule_it_is_about_and_changes_nothing(
    context: Context, elsewhere: Context
) -> None:
    configure(context)
    text = exported(context).replace("event_type: runner_pool.*", "event_type: runner_pool.ofline")

    with pytest.raises(ConfigProblems) as refused:
        applied(elsewhere, text)

    assert refused.value.problems == [
        Problem(
            ("pagerduty", "routing", 1),
            "event_type 'runner_pool.ofline' is not a known event type; did you mean "
            "'runner_pool.offline'? (a pattern with * ? or [ matches several)",
        )
    ]
    with elsewhere.engine.connect() as connection:
        assert connectors.list_all(connection) == []


def test_a_window_already_over_is_skipped_with_a_note(context: Context) -> None:
    configure(context)
    text = exported(context)
    later = NOW + timedelta(hours=3)

    plan = applied(context, text, now=later)

    assert (plan.changes, plan.notes) == (
        [],
        ["suppressions[0]: ended at 2026-05-25T05:00:00Z; skipped (remove it from the file)"],
    )


def evidence_failed() -> dict[str, Any]:
    return {
        "id": "e1",
        "type": "evidence_pack.generation_failed",
        "project_slug": "warehouse",
        "occurred_at": "2026-05-25T03:00:00Z",
        "data": {"release_tag": "v1.4.0"},
    }


def yaml_document(text: str) -> dict[str, Any]:
    data = Source.read(text, "rbtk.yaml").data
    assert isinstance(data, dict)
    return data


def dumped(document: dict[str, Any]) -> str:
    return str(yaml.safe_dump(document, sort_keys=False))


def test_a_chat_channel_changed_in_the_file_is_changed_in_place(context: Context) -> None:
    configure(context)
    text = exported(context).replace("- qa@example.com\n", "- release@example.com\n")
    fresh = "https://hooks.slack.com/services/T0001/B0002/an0th3rW3bh00kT0k3nAbCd"

    plan = applied(context, text, environ={**ENVIRONMENT, "OPS_SLACK_WEBHOOK_URL": fresh})

    assert [(c.action, c.name, [d.as_json() for d in c.diffs]) for c in plan.changes] == [
        (
            "change",
            "ops-mail",
            [
                {
                    "field": "recipients",
                    "before": "ops@example.com, qa@example.com",
                    "after": "ops@example.com, release@example.com",
                }
            ],
        ),
        (
            "change",
            "ops-slack",
            [{"field": "webhook_url", "before": "••••••••…XyZ9", "after": "••••••••…AbCd"}],
        ),
    ]
    with context.engine.connect() as connection:
        mail = chat_channels.get_channel(connection, name="ops-mail")
        slack = chat_channels.get_channel(connection, name="ops-slack")
    assert (mail.recipients, mail.rules) == (["ops@example.com", "release@example.com"], [2])
    assert (slack.secret_masked, slack.health, slack.rules) == ("••••••••…AbCd", True, [1])


def test_the_reconcile_settings_are_exported_with_the_rest_key_only_when_one_is_stored(
    context: Context,
) -> None:
    configure(context)

    document = yaml_document(exported(context))

    production, staging = document["pagerduty"]["connectors"]
    assert {k: v for k, v in production.items() if k in RECONCILE} == {
        "rest_key_env": "PD_PRODUCTION_REST_KEY",
        "service_id": "P1ABCDE",
        "repage_resolved_by_hand": True,
    }
    assert {k: v for k, v in staging.items() if k in RECONCILE} == {
        "service_id": None,
        "repage_resolved_by_hand": False,
    }


RECONCILE = ("rest_key_env", "rest_key_file", "service_id", "repage_resolved_by_hand")


def test_a_new_rest_key_shows_only_its_masks(context: Context) -> None:
    configure(context)
    text = exported(context)
    fresh = "Zq3-Lm8nPb5xRt7vabcd"

    plan = applied(context, text, environ={**ENVIRONMENT, "PD_PRODUCTION_REST_KEY": fresh})

    [change] = plan.changes
    assert (change.action, change.name) == ("change", "pd-production")
    assert [d.as_json() for d in change.diffs] == [
        {"field": "rest_key", "before": "••••••••…wxyz", "after": "••••••••…abcd"}
    ]
    with context.engine.connect() as connection:
        assert connectors.get(connection, name="pd-production").rest_key_masked == "••••••••…abcd"
        rest_key = connectors.stored_rest_key(connection, vault=context.vault, name="pd-production")
    assert rest_key is not None and rest_key.reveal() == fresh


def test_a_new_rest_key_alike_to_its_last_four_is_told_apart_by_fingerprint(
    context: Context,
) -> None:
    configure(context)
    fresh = "Zq3-Lm8nPb5xRt7vwxyz"

    plan = applied(
        context, exported(context), environ={**ENVIRONMENT, "PD_PRODUCTION_REST_KEY": fresh}
    )

    [change] = plan.changes
    [diff] = change.diffs
    assert diff.field == "rest_key"
    assert diff.before is not None and diff.before.startswith("••••••••…wxyz (")
    assert diff.after is not None and diff.after.startswith("••••••••…wxyz (")
    assert diff.before != diff.after


def test_a_file_that_names_no_rest_key_removes_the_one_stored(context: Context) -> None:
    configure(context)
    document = yaml_document(exported(context))
    del document["pagerduty"]["connectors"][0]["rest_key_env"]

    plan = applied(context, dumped(document), dry_run=True)

    [change] = plan.changes
    assert (change.action, change.name, [d.as_json() for d in change.diffs]) == (
        "change",
        "pd-production",
        [{"field": "rest_key", "before": "••••••••…wxyz", "after": "none"}],
    )
    applied(context, dumped(document))
    with context.engine.connect() as connection:
        view = connectors.get(connection, name="pd-production")
        assert connectors.stored_rest_key(connection, vault=context.vault, name=view.name) is None
    assert (view.rest_key_masked, view.service_id) == (None, "P1ABCDE")
    assert "rest_key_env" not in exported(context)
    assert applied(context, dumped(document)).changes == []


def test_a_rest_key_named_for_a_connector_without_one_is_added(context: Context) -> None:
    configure(context)
    text = exported(context).replace(
        "    key_env: PD_STAGING_KEY",
        "    rest_key_env: PD_STAGING_REST_KEY\n    key_env: PD_STAGING_KEY",
    )

    plan = applied(context, text, environ={**ENVIRONMENT, "PD_STAGING_REST_KEY": REST_KEY})

    [change] = plan.changes
    assert [d.as_json() for d in change.diffs] == [
        {"field": "rest_key", "before": "none", "after": "••••••••…wxyz"}
    ]
    with context.engine.connect() as connection:
        assert connectors.get(connection, name="pd-staging").rest_key_masked == "••••••••…wxyz"


def test_the_service_and_repaging_changed_in_the_file_are_changed_field_by_field(
    context: Context,
) -> None:
    configure(context)
    text = exported(context).replace("service_id: P1ABCDE", "service_id: P9ZYXWV")
    text = text.replace("repage_resolved_by_hand: true", "repage_resolved_by_hand: false")
    text = text.replace("service_id: null", "service_id: PSTAGE1")

    plan = applied(context, text)

    assert [(c.name, [(d.field, d.before, d.after) for d in c.diffs]) for c in plan.changes] == [
        (
            "pd-production",
            [("service_id", "P1ABCDE", "P9ZYXWV"), ("repage_resolved_by_hand", "true", "false")],
        ),
        ("pd-staging", [("service_id", "none", "PSTAGE1")]),
    ]
    with context.engine.connect() as connection:
        production = connectors.get(connection, name="pd-production")
        staging = connectors.get(connection, name="pd-staging")
    assert (production.service_id, production.repage_resolved_by_hand) == ("P9ZYXWV", False)
    assert (production.rest_key_masked, staging.service_id) == ("••••••••…wxyz", "PSTAGE1")


def test_a_rest_key_variable_holding_something_else_is_named_at_its_reference(
    context: Context,
) -> None:
    configure(context)
    text = exported(context)
    before = stored(context)

    with pytest.raises(ConfigProblems) as refused:
        applied(context, text, environ={**ENVIRONMENT, "PD_PRODUCTION_REST_KEY": KEY})

    assert refused.value.problems == [
        Problem(
            ("pagerduty", "connectors", 0, "rest_key_env"),
            "the variable PD_PRODUCTION_REST_KEY does not hold a REST API key: this looks like "
            "an Integration Key (32 characters): reconcile needs a REST API key (20 characters) "
            "from PagerDuty's Integrations → API Access Keys; read-only is enough",
        )
    ]
    assert stored(context) == before


def test_runbooks_change_rule_by_rule_and_a_file_without_them_leaves_them(
    context: Context,
) -> None:
    configure(context)
    text = exported(context)
    old = "https://wiki.example.com/runbooks/pool-offline"
    new = "https://wiki.example.com/runbooks/pools"

    moved = applied(context, text.replace(old, new))
    untouched = applied(context, text.replace(f"  runbooks:\n    pool_offline: {old}\n", ""))
    emptied = applied(
        context, text.replace(f"runbooks:\n    pool_offline: {old}\n", "runbooks: {}\n")
    )

    assert [c.as_json() for c in moved.changes] == [
        {
            "action": "change",
            "kind": "runbook",
            "name": "pool_offline",
            "fields": [{"field": "url", "before": old, "after": new}],
        }
    ]
    assert untouched.changes == []
    assert [(c.action, c.kind, c.name) for c in emptied.changes] == [
        ("remove", "runbook", "pool_offline")
    ]
    with context.engine.connect() as connection:
        assert runbooks.get_all(connection) == {}

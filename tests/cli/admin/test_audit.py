"""`rbtk admin audit` against a running rbtk: who changed what, newest first."""

import getpass

import httpx

from tests.cli.conftest import OTHER_KEY, Rbtk, add_connector, shown

AUDIT = "/api/v1/audit"
CONNECTORS = "/api/v1/pagerduty/connectors"


def test_audit_lists_changes_newest_first_with_who_and_the_fields_changed(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    add_connector(api, "pd-production")
    api.patch(f"{CONNECTORS}/pd-production", json={"send_info": True, "region": "eu"})
    api.delete(f"{CONNECTORS}/pd-production")
    removed, updated, added = api.get(AUDIT).json()["entries"]

    result = rbtk("admin", "audit")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "ID  TIME (UTC)           BY    ACTION            TARGET         CHANGES\n"
        f"3   {shown(removed['at'])}  test  connector.remove  pd-production  removed\n"
        f"2   {shown(updated['at'])}  test  connector.update  pd-production  "
        "region: us → eu; send_info: false → true\n"
        f"1   {shown(added['at'])}  test  connector.add     pd-production  created\n"
    )


def test_audit_filters_by_action_and_target_and_says_how_to_see_older_entries(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    add_connector(api, "pd-production")
    add_connector(api, "pd-staging", OTHER_KEY)
    api.patch(f"{CONNECTORS}/pd-staging", json={"max_severity": "error"})
    api.patch(f"{CONNECTORS}/pd-staging", json={"max_severity": None})

    newest = api.get(AUDIT).json()["entries"][0]

    updates = rbtk("admin", "audit", "--action", "connector.update", "--limit", "1")
    production = rbtk("admin", "audit", "--target", "pd-production")

    assert (updates.exit_code, updates.stdout) == (
        0,
        "ID  TIME (UTC)           BY    ACTION            TARGET      CHANGES\n"
        f"4   {shown(newest['at'])}  test  connector.update  pd-staging  max_severity: error → -\n"
        "older entries: --before-id 4\n",
    )
    assert [line.split()[4:6] for line in production.stdout.splitlines()[1:]] == [
        ["connector.add", "pd-production"]
    ]


def test_audit_says_when_nothing_was_changed(rbtk: Rbtk) -> None:
    result = rbtk("admin", "audit")

    assert (result.exit_code, result.stdout) == (0, "no configuration changes recorded\n")


def test_a_token_created_on_the_database_is_audited_as_the_local_user(
    rbtk: Rbtk, api: httpx.Client, database_url: str, tmp_path: object
) -> None:
    env = {"RBTK_DATABASE_URL": database_url, "RBTK_DATA_DIR": str(tmp_path)}

    created = rbtk("tokens", "create", "--scope", "events", "--name", "ci", env=env)

    assert created.exit_code == 0, created.stderr
    [entry] = api.get(AUDIT, params={"action": "token"}).json()["entries"]
    assert (entry["actor"], entry["action"], entry["target"], entry["after"]["scope"]) == (
        f"cli (local: {getpass.getuser()})",
        "token.create",
        "ci",
        "events",
    )
    assert "rbtk_" not in str(entry)  # the token itself is never recorded

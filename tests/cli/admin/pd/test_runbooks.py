"""`rbtk admin pd runbooks set|unset|list` against a running rbtk."""

import httpx

from tests.cli.conftest import Rbtk

RUNBOOK = "https://wiki.roboticks.test/runbooks/pool-offline"


def test_set_then_list_shows_the_rules_runbook(rbtk: Rbtk, api: httpx.Client) -> None:
    set_ = rbtk("admin", "pd", "runbooks", "set", "pool_offline", RUNBOOK)
    listed = rbtk("admin", "pd", "runbooks", "list")

    assert (set_.exit_code, set_.stderr) == (0, "")
    assert set_.stdout == (
        f"runbook of pool_offline set to {RUNBOOK}: linked from the incidents it opens from "
        "now on\n"
    )
    assert listed.stdout == (
        "RULE                     RUNBOOK\n"
        "evidence_pack_failed     -\n"
        "airgapped_pool_offline   -\n"
        f"pool_offline             {RUNBOOK}\n"
        "post_release_regression  -\n"
        "standard_amendment       -\n"
    )
    [entry] = api.get("/api/v1/audit").json()["entries"]
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "test",
        "runbook.set",
        "pool_offline",
    )


def test_unset_removes_it_and_unsetting_again_says_there_is_none(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    api.put("/api/v1/runbooks/pool_offline", json={"url": RUNBOOK})

    unset = rbtk("admin", "pd", "runbooks", "unset", "pool_offline")
    again = rbtk("admin", "pd", "runbooks", "unset", "pool_offline")

    assert (unset.exit_code, unset.stdout) == (0, "runbook of pool_offline removed\n")
    assert again.exit_code == 1
    assert "rule 'pool_offline' has no runbook" in again.stderr
    assert api.get("/api/v1/runbooks").json()["runbooks"][2] == {
        "rule": "pool_offline",
        "url": None,
    }


def test_a_url_that_is_not_http_is_refused_with_the_services_message(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "runbooks", "set", "pool_offline", "wiki/runbooks")

    assert result.exit_code == 1
    assert "is not an http(s) address" in result.stderr


def test_an_unknown_rule_is_refused_before_asking_the_server(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "runbooks", "set", "pool_ofline", RUNBOOK)

    assert result.exit_code == 2
    assert "pool_offline" in result.stderr

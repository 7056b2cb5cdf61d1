"""`rbtk admin pd connectors add|list|show|update|remove` against a running rbtk."""

import httpx

from tests.cli.conftest import KEY, MASKED, OTHER_KEY, UNREACHABLE, Rbtk, add_connector, shown
from tests.waiting import wait_for

DEFAULT_RULES = (
    "evidence_pack_failed, airgapped_pool_offline, pool_offline, post_release_regression"
)
EVIDENCE_FAILED = {
    "id": "evt-ep-1",
    "type": "evidence_pack.generation_failed",
    "project_slug": "warehouse",
    "occurred_at": "2026-05-25T03:00:00Z",
    "data": {"release_tag": "v1.4.0", "ref": "refs/tags/v1.4.0", "error": "signing key gone"},
}


def described(connector: dict[str, object], *, endpoint: str, **lines: str) -> str:
    """What `show` prints for `connector` (read from the API), with `lines` as expected."""
    expected = {
        "name": str(connector["name"]),
        "integration key": MASKED,
        "region": "us",
        "endpoint": endpoint,
        "default": "yes",
        "send info": "no",
        "change events": "yes",
        "max severity": "none",
        "storm collapse": "on: more than 20 new incidents within 60 s",
        "enabled rules": DEFAULT_RULES,
        "disabled rules": "standard_amendment",
        "REST API key": "none (reconcile is off)",
        "service": "none",
        "repage by hand": "no",
        "verified": "never end to end",
        "open incidents": "0",
        "last delivery": "never",
        "created": shown(str(connector["created_at"])),
        "updated": shown(str(connector["updated_at"])),
    }
    expected.update({label.replace("_", " "): value for label, value in lines.items()})
    return "".join(f"{label + ':':<16} {value}\n" for label, value in expected.items())


def test_add_prints_the_new_connector_with_its_key_masked(
    rbtk: Rbtk, api: httpx.Client, emulator: str
) -> None:
    result = rbtk("admin", "pd", "connectors", "add", "pd-production", "--key", KEY)

    connector = api.get("/api/v1/pagerduty/connectors/pd-production").json()
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "added connector pd-production\n" + described(
        connector, endpoint=f"{emulator}/v2/enqueue"
    )
    assert KEY not in result.output


def test_add_passes_rules_region_send_info_and_default(rbtk: Rbtk, api: httpx.Client) -> None:
    result = rbtk(
        "admin", "pd", "connectors", "add", "pd-eu", "--key", KEY,
        "--enable", "standard_amendment", "--disable", "pool_offline",
        "--disable", "post_release_regression", "--region", "eu", "--send-info", "--no-default",
        "--no-change-events",
    )  # fmt: skip

    connector = api.get("/api/v1/pagerduty/connectors/pd-eu").json()
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "added connector pd-eu\n" + described(
        connector,
        endpoint="https://events.eu.pagerduty.com/v2/enqueue",
        region="eu",
        default="no",
        send_info="yes",
        change_events="no",
        enabled_rules="evidence_pack_failed, airgapped_pool_offline, standard_amendment",
        disabled_rules="pool_offline, post_release_regression",
    )


def test_add_asks_for_the_key_when_it_is_left_out_and_does_not_echo_it(
    rbtk: Rbtk, api: httpx.Client, emulator: str
) -> None:
    result = rbtk("admin", "pd", "connectors", "add", "pd-production", input=KEY + "\n")

    connector = api.get("/api/v1/pagerduty/connectors/pd-production").json()
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "Integration key: \nadded connector pd-production\n" + described(
        connector, endpoint=f"{emulator}/v2/enqueue"
    )


def test_add_refuses_a_rest_api_key_with_the_servers_explanation(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    result = rbtk(
        "admin", "pd", "connectors", "add", "pd-production", "--key", "y_NbAkKc66ryYTWUXYEu"
    )

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: this looks like a REST API key (20 characters): the Events API needs the "
        "32-character Integration Key instead; copy the Integration Key from the service's "
        "Events API v2 integration in PagerDuty\n"
    )
    assert api.get("/api/v1/pagerduty/connectors").json() == {"connectors": []}


def test_add_refuses_a_name_that_is_taken(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-production")

    result = rbtk("admin", "pd", "connectors", "add", "pd-production", "--key", OTHER_KEY)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "error: a connector named 'pd-production' already exists\n"


def test_add_refuses_a_rule_that_does_not_exist_before_calling_the_server(rbtk: Rbtk) -> None:
    result = rbtk(
        "admin", "pd", "connectors", "add", "pd-production", "--key", KEY, "--enable", "pages"
    )

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Usage: rbtk admin pd connectors add [OPTIONS] {NAME}\n"
        "Try 'rbtk admin pd connectors add --help' for help.\n"
        "\n"
        "Error: Invalid value for '--enable': Value error, 'pages' is not one of "
        "'evidence_pack_failed', 'airgapped_pool_offline', 'pool_offline', "
        "'post_release_regression', 'standard_amendment'.\n"
    )


def test_list_shows_each_connector_in_a_table_with_masked_keys(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    add_connector(api, "pd-production")
    add_connector(api, "pd-eu", OTHER_KEY, region="eu", disable=["pool_offline"], is_default=False)

    result = rbtk("admin", "pd", "connectors", "list")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "NAME           KEY            REGION  DEFAULT  MAX SEVERITY  OPEN  LAST DELIVERY  "
        "ENABLED RULES\n"
        "pd-eu          ••••••••…c9d8  eu      no       none          0     never          "
        "evidence_pack_failed,airgapped_pool_offline,post_release_regression\n"
        "pd-production  ••••••••…a1b2  us      yes      none          0     never          "
        "evidence_pack_failed,airgapped_pool_offline,pool_offline,post_release_regression\n"
    )


def test_list_shows_open_incidents_and_the_last_delivery(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client
) -> None:
    add_connector(api, "pd-production")
    assert api.post("/api/v1/events", json=EVIDENCE_FAILED).status_code == 202
    wait_for_alerts(pd, 1)

    result = rbtk("admin", "pd", "connectors", "list")

    last = api.get("/api/v1/pagerduty/connectors/pd-production").json()["last_delivery"]
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "NAME           KEY            REGION  DEFAULT  MAX SEVERITY  OPEN  "
        "LAST DELIVERY             ENABLED RULES\n"
        "pd-production  ••••••••…a1b2  us      yes      none          1     "
        f"sent {shown(last['at'])}  "
        "evidence_pack_failed,airgapped_pool_offline,pool_offline,post_release_regression\n"
    )


def test_list_without_connectors_says_how_to_add_one(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "connectors", "list")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "no connectors yet: add one with 'rbtk admin pd connectors add NAME --key KEY'\n"
    )


def test_show_prints_one_connector(rbtk: Rbtk, api: httpx.Client, emulator: str) -> None:
    connector = add_connector(api, "pd-production", send_info=True)

    result = rbtk("admin", "pd", "connectors", "show", "pd-production")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == described(connector, endpoint=f"{emulator}/v2/enqueue", send_info="yes")


def test_show_of_an_unknown_connector_is_one_line_and_exit_1(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "connectors", "show", "pd-nope")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "error: no connector named 'pd-nope'\n"


def test_update_changes_only_what_is_given(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-production", disable=["pool_offline"])

    result = rbtk(
        "admin", "pd", "connectors", "update", "pd-production", "--key", OTHER_KEY,
        "--region", "eu", "--enable", "standard_amendment",
    )  # fmt: skip

    connector = api.get("/api/v1/pagerduty/connectors/pd-production").json()
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "updated connector pd-production\n" + described(
        connector,
        endpoint="https://events.eu.pagerduty.com/v2/enqueue",
        integration_key="••••••••…c9d8",
        region="eu",
        enabled_rules=(
            "evidence_pack_failed, airgapped_pool_offline, post_release_regression, "
            "standard_amendment"
        ),
        disabled_rules="pool_offline",
    )


def test_update_can_turn_send_info_on_and_default_off(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-production")

    result = rbtk(
        "admin", "pd", "connectors", "update", "pd-production", "--send-info", "--no-default"
    )

    connector = api.get("/api/v1/pagerduty/connectors/pd-production").json()
    assert result.exit_code == 0
    assert (connector["send_info"], connector["is_default"]) == (True, False)


def test_update_with_nothing_to_change_says_what_may_be_given(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "connectors", "update", "pd-production")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: nothing to change: give --key, --enable, --disable, --region, "
        "--default/--no-default, --send-info/--no-send-info, "
        "--change-events/--no-change-events, --max-severity/--no-max-severity, "
        "--storm-collapse/--no-storm-collapse, --storm-threshold, --storm-window, "
        "--service-id/--no-service-id, --repage-resolved-by-hand/--no-repage-resolved-by-hand "
        "or --rest-key/--no-rest-key\n"
    )


def test_update_sets_storm_collapse_and_a_refused_setting_says_its_range(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    add_connector(api, "pd-production")

    changed = rbtk(
        "admin", "pd", "connectors", "update", "pd-production",
        "--storm-threshold", "50", "--storm-window", "120",
    )  # fmt: skip
    off = rbtk("admin", "pd", "connectors", "update", "pd-production", "--no-storm-collapse")
    refused = rbtk("admin", "pd", "connectors", "update", "pd-production", "--storm-window", "1")

    assert "storm collapse:  on: more than 50 new incidents within 120 s\n" in changed.stdout
    assert "storm collapse:  off (when on: more than 50 new incidents within 120 s)\n" in (
        off.stdout
    )
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert "storm.window_s: Input should be greater than or equal to 10" in refused.stderr
    connector = api.get("/api/v1/pagerduty/connectors/pd-production").json()
    assert connector["storm"] == {"collapse": False, "threshold": 50, "window_s": 120}


def test_update_refuses_a_key_of_the_wrong_shape(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-production")

    result = rbtk("admin", "pd", "connectors", "update", "pd-production", "--key", "short-key!")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: the integration key has 10 characters, including 2 symbol characters: expected "
        "exactly 32 letters and digits, the Integration Key from the service's Events API v2 "
        "integration in PagerDuty\n"
    )


def test_update_of_an_unknown_connector_is_one_line_and_exit_1(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "connectors", "update", "pd-nope", "--region", "eu")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "error: no connector named 'pd-nope'\n"


def test_remove_deletes_the_connector(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-production")

    result = rbtk("admin", "pd", "connectors", "remove", "pd-production")

    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "removed connector pd-production\n",
        "",
    )
    assert api.get("/api/v1/pagerduty/connectors").json() == {"connectors": []}


def test_remove_is_refused_while_incidents_are_open_unless_forced(
    rbtk: Rbtk, api: httpx.Client, pd: httpx.Client
) -> None:
    add_connector(api, "pd-production")
    assert api.post("/api/v1/events", json=EVIDENCE_FAILED).status_code == 202
    wait_for_alerts(pd, 1)

    refused = rbtk("admin", "pd", "connectors", "remove", "pd-production")
    forced = rbtk("admin", "pd", "connectors", "remove", "pd-production", "--force")

    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr == (
        "error: connector 'pd-production' still has 1 open incident: wait until it resolves, "
        "or remove it with force (rbtk then forgets them and never sends their resolves)\n"
    )
    assert (forced.exit_code, forced.stdout) == (0, "removed connector pd-production\n")
    assert api.get("/api/v1/pagerduty/connectors").json() == {"connectors": []}


def test_remove_of_an_unknown_connector_is_one_line_and_exit_1(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "connectors", "remove", "pd-nope")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "error: no connector named 'pd-nope'\n"


def test_an_unreachable_server_is_one_line_and_exit_1(rbtk: Rbtk) -> None:
    result = rbtk.at(UNREACHABLE)("admin", "pd", "connectors", "list")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: cannot reach rbtk at http://127.0.0.1:9: [Errno 111] Connection refused\n"
    )


def test_a_server_without_the_api_is_told_apart_from_an_unknown_connector(
    rbtk: Rbtk, emulator: str
) -> None:
    result = rbtk.at(emulator)("admin", "pd", "connectors", "list")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {emulator} has no GET /api/v1/pagerduty/connectors: "
        "is that rbtk, and as recent as this CLI?\n"
    )


def test_a_url_that_is_not_http_says_what_is_expected(rbtk: Rbtk) -> None:
    result = rbtk.at("127.0.0.1:8000")("admin", "pd", "connectors", "list")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: --url/RBTK_URL must be an http(s) URL such as http://127.0.0.1:8000, "
        "not '127.0.0.1:8000'\n"
    )


def test_the_url_option_wins_over_rbtk_url(rbtk: Rbtk) -> None:
    result = rbtk.at(UNREACHABLE)("admin", "--url", rbtk.url, "pd", "connectors", "list")

    assert (result.exit_code, result.stderr) == (0, "")


def test_without_a_token_it_says_how_to_create_one(rbtk: Rbtk) -> None:
    result = rbtk.with_token(None)("admin", "pd", "connectors", "list")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: no API token: set RBTK_TOKEN to a token of this server; "
        "create one there with 'rbtk tokens create --scope admin'\n"
    )


def test_a_bad_token_is_refused_without_being_printed(rbtk: Rbtk) -> None:
    result = rbtk.with_token("rbtk_not-a-real-token")("admin", "pd", "connectors", "list")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: rbtk refused the token (invalid or revoked token): set RBTK_TOKEN; "
        "create one with 'rbtk tokens create --scope admin'\n"
    )


def test_a_token_with_a_line_break_is_refused_without_being_printed(rbtk: Rbtk) -> None:
    result = rbtk.with_token("rbtk_abc\ndef")("admin", "pd", "connectors", "list")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: RBTK_TOKEN is not a token: it has spaces or characters a token cannot have\n"
    )


def test_an_events_token_may_not_manage_connectors(rbtk: Rbtk, events_token: str) -> None:
    result = rbtk.with_token(events_token)("admin", "pd", "connectors", "list")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: the token may not do this (this token may only post events): "
        "create one with 'rbtk tokens create --scope admin'\n"
    )


def wait_for_alerts(pd: httpx.Client, count: int) -> None:
    wait_for(
        lambda: len(pd.get("/_inspect/alerts").json()["alerts"]) >= count,
        what=f"{count} alert(s) at the emulator",
    )


def test_a_severity_cap_is_set_shown_and_removed(rbtk: Rbtk, api: httpx.Client) -> None:
    added = rbtk(
        "admin", "pd", "connectors", "add", "pd-staging", "--key", KEY, "--max-severity", "warning"
    )
    listed = rbtk("admin", "pd", "connectors", "list")
    removed = rbtk("admin", "pd", "connectors", "update", "pd-staging", "--no-max-severity")

    assert added.exit_code == 0
    assert "max severity:    warning\n" in added.stdout
    assert "  yes      warning       0  " in listed.stdout
    assert (removed.exit_code, removed.stderr) == (0, "")
    assert "max severity:    none\n" in removed.stdout
    assert api.get("/api/v1/pagerduty/connectors/pd-staging").json()["max_severity"] is None


def test_update_sets_a_severity_cap(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-staging")

    result = rbtk("admin", "pd", "connectors", "update", "pd-staging", "--max-severity", "error")

    assert (result.exit_code, result.stderr) == (0, "")
    assert api.get("/api/v1/pagerduty/connectors/pd-staging").json()["max_severity"] == "error"


def test_update_refuses_a_cap_and_no_cap_together(rbtk: Rbtk, api: httpx.Client) -> None:
    add_connector(api, "pd-staging", max_severity="warning")

    result = rbtk(
        "admin", "pd", "connectors", "update", "pd-staging",
        "--max-severity", "error", "--no-max-severity",
    )  # fmt: skip

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "error: give --max-severity LEVEL or --no-max-severity, not both\n"
    assert api.get("/api/v1/pagerduty/connectors/pd-staging").json()["max_severity"] == "warning"


def test_an_unknown_severity_is_refused_before_calling_the_server(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    result = rbtk(
        "admin", "pd", "connectors", "add", "pd-staging", "--key", KEY, "--max-severity", "high"
    )

    assert (result.exit_code, result.stdout) == (2, "")
    assert "Invalid value for '--max-severity'" in result.stderr
    assert api.get("/api/v1/pagerduty/connectors").json() == {"connectors": []}


def test_setting_a_service_asks_for_the_rest_api_key_when_none_is_stored(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    add_connector(api, "pd-production")
    rest_key = "y_NbAkKc66ryYTWUXYEu"

    asked = rbtk(
        "admin", "pd", "connectors", "update", "pd-production", "--service-id", "PWARE01",
        input=rest_key + "\n",
    )  # fmt: skip
    again = rbtk("admin", "pd", "connectors", "update", "pd-production", "--service-id", "PWARE02")

    assert (asked.exit_code, asked.stderr) == (0, "")
    assert asked.stdout.startswith("PagerDuty REST API key: \nupdated connector pd-production\n")
    assert rest_key not in asked.stdout
    assert "REST API key:    ••••••••…XYEu\nservice:         PWARE01\n" in asked.stdout
    assert (again.exit_code, again.stderr) == (0, "")  # one is stored now: not asked again
    assert "service:         PWARE02\n" in again.stdout

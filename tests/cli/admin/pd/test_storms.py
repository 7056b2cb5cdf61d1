"""`rbtk admin pd storms list|show` against a running rbtk."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.cli.conftest import Rbtk, add_connector, shown
from tests.factories import pool_offline
from tests.waiting import wait_for

STORMS = "/api/v1/pagerduty/storms"


def a_storm(api: httpx.Client, pools: int) -> dict[str, Any]:
    add_connector(api, "pd-production")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    offline = [pool_offline(f"off-{i}", an_hour_ago, f"pool-{i:02}") for i in range(pools)]
    assert api.post("/api/v1/events", json={"events": offline}).status_code == 200
    storms = wait_for(
        lambda: [s for s in api.get(STORMS).json()["storms"] if s["summary"]],
        what="the storm's umbrella",
    )
    return dict(storms[0])


def test_list_shows_each_storm_with_its_umbrella(rbtk: Rbtk, api: httpx.Client) -> None:
    storm = a_storm(api, 23)

    result = rbtk("admin", "pd", "storms", "list")

    assert (result.exit_code, result.stderr) == (0, "")
    started = shown(storm["started_at"])
    assert result.stdout == (
        "ID  CONNECTOR      STATE  STARTED (UTC)        ENDED (UTC)  MEMBERS  HELD  UMBRELLA\n"
        f"1   pd-production  open   {started}  -            3        3     "
        "Storm: 3 runner pools offline in warehouse (3 air-gapped)\n"
    )


def test_show_prints_the_storm_then_its_members_a_page_at_a_time(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    storm = a_storm(api, 23)

    first = rbtk("admin", "pd", "storms", "show", "1", "--limit", "2")
    members = api.get(f"{STORMS}/1").json()["members"]
    rest = rbtk("admin", "pd", "storms", "show", "1", "--after-id", str(members[1]["delivery_id"]))

    assert (first.exit_code, first.stderr) == (0, "")
    held_at = shown(members[0]["held_at"])
    assert first.stdout == (
        "storm:    #1 on pd-production (open)\n"
        f"umbrella: {storm['dedup_key']}: Storm: 3 runner pools offline in warehouse "
        "(3 air-gapped)\n"
        f"started:  {shown(storm['started_at'])}\n"
        "ended:    -\n"
        "members:  3 held in all, 3 held now\n"
        "\n"
        "DELIVERY  DEDUP KEY                            SEVERITY  HELD AT (UTC)        NOW\n"
        f"{members[0]['delivery_id']:<8}  rbtk:pool-offline:warehouse:pool-20  critical  "
        f"{held_at}  held\n"
        f"{members[1]['delivery_id']:<8}  rbtk:pool-offline:warehouse:pool-21  critical  "
        f"{held_at}  held\n"
        f"more: --after-id {members[1]['delivery_id']}\n"
    )
    assert rest.stdout.splitlines()[-1].split()[1] == "rbtk:pool-offline:warehouse:pool-22"


def test_show_of_an_unknown_storm_says_so(rbtk: Rbtk) -> None:
    result = rbtk("admin", "pd", "storms", "show", "9")

    assert (result.exit_code, result.stdout) == (1, "")
    assert "no storm #9" in result.stderr

"""`rbtk admin pd incidents list|resolve` against a running rbtk (and its emulator)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.cli.conftest import Rbtk, add_connector, shown
from tests.factories import event, pool_offline
from tests.waiting import wait_for

AMENDMENT = "rbtk:standard-amendment:warehouse:iso-26262:A2"


def the_fleet(api: httpx.Client) -> dict[str, Any]:
    add_connector(api, "pd-production", enable=["standard_amendment"])
    at = datetime.now(UTC)
    events = [
        pool_offline("off-a", at - timedelta(minutes=18), "rack-a"),
        pool_offline("off-b", at - timedelta(minutes=5), "rack-b"),
        event(
            "amend-1",
            "standard.amendment_published",
            at,
            standard="iso-26262",
            amendment="A2",
            title="Second amendment",
            pinned=True,
        ),
    ]
    assert api.post("/api/v1/events", json={"events": events}).status_code == 200
    everything = api.get("/api/v1/incidents", params={"state": "all"}).json()["incidents"]
    return {i["dedup_key"]: i for i in everything}


def test_list_shows_what_fires_where_and_when_a_pending_one_pages(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    found = the_fleet(api)
    wait_for(
        lambda: all(
            c["state"] == "sent"
            for i in api.get("/api/v1/incidents").json()["incidents"]
            for c in i["connectors"]
        ),
        what="both pages sent",
    )

    firing = rbtk("admin", "pd", "incidents", "list")
    pending = rbtk("admin", "pd", "incidents", "list", "--state", "pending")

    assert (firing.exit_code, firing.stderr) == (0, "")
    rack_a = found["rbtk:pool-offline:warehouse:rack-a"]
    assert firing.stdout.splitlines() == [
        "DEDUP KEY                                       STATE   SEVERITY  SINCE (UTC)          "
        "CONNECTORS",
        f"rbtk:pool-offline:warehouse:rack-a              firing  critical  "
        f"{shown(rack_a['since'])}  pd-production: sent",
        f"{AMENDMENT}  firing  warning   {shown(found[AMENDMENT]['since'])}  pd-production: sent",
    ]
    rack_b = found["rbtk:pool-offline:warehouse:rack-b"]
    assert f"pending, pages at {shown(rack_b['pages_at'])}" in pending.stdout


def test_resolve_sends_the_resolve_of_an_incident_that_never_clears(
    rbtk: Rbtk, api: httpx.Client
) -> None:
    the_fleet(api)
    wait_for(
        lambda: [r for r in api.get("/api/v1/pagerduty/deliveries").json()["deliveries"]
                 if r["dedup_key"] == AMENDMENT and r["status"] == "sent"],
        what="the amendment paged",
    )  # fmt: skip

    result = rbtk("admin", "pd", "incidents", "resolve", AMENDMENT)
    again = rbtk("admin", "pd", "incidents", "resolve", AMENDMENT)

    assert (result.exit_code, result.stdout) == (
        0,
        f"resolved {AMENDMENT}: a resolve is on its way to 1 connector\n",
    )
    assert again.exit_code == 1
    assert f"nothing is firing or pending with dedup key '{AMENDMENT}'" in again.stderr

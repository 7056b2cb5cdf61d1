"""A maintenance window end to end through the CLI, against the emulator."""

from datetime import timedelta

import httpx
import pytest

from rbtk.runtime.timefmt import parse_rfc3339
from tests.e2e.conftest import Emulator, Start
from tests.e2e.processes import rbtk
from tests.e2e.test_paging import add_connector, ago, delivery_log, post
from tests.factories import pool_offline, pool_online
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

KEY_OF = "rbtk:pool-offline:warehouse:{}".format


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_window_holds_pages_back_and_releases_the_ones_still_firing(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    with start() as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)
        post(env, pool_offline("a-off", ago(90), "pool-a"))  # paged before the window
        wait_for(lambda: emulator.alerts("open"), what="pool-a's incident")

        suppressed = rbtk(
            "admin",
            "pd",
            "suppress",
            "--connector",
            "pd-production",
            "--for",
            "15s",  # room for the three CLI runs below, each a process start of about a second
            "--reason",
            "Maintenance",
            env=env,
        )
        assert suppressed.returncode == 0, suppressed.stderr
        listed = rbtk("admin", "pd", "suppressions", "list", env=env)
        assert "Maintenance" in listed.stdout
        post(env, pool_offline("b-off", ago(90), "pool-b"))  # still offline when it ends
        post(env, pool_offline("c-off", ago(90), "pool-c"), pool_online("c-on", ago(0), "pool-c"))
        post(env, pool_online("a-on", ago(0), "pool-a"))  # resolves go out during a window

        wait_for(lambda: KEY_OF("pool-a") in {a["dedup_key"] for a in emulator.alerts("resolved")})
        log = {(r["dedup_key"], r["action"]): r["status"] for r in delivery_log(env)}
        assert log[(KEY_OF("pool-b"), "trigger")] == "suppressed"
        assert log[(KEY_OF("pool-c"), "trigger")] == "suppressed"
        assert {e["dedup_key"] for e in emulator.events()} == {KEY_OF("pool-a")}

        windows = httpx.get(
            f"{service.url}/api/v1/pagerduty/suppressions",
            headers={"Authorization": f"Bearer {env['RBTK_TOKEN']}"},
        ).json()["suppressions"]
        wait_for(
            lambda: KEY_OF("pool-b") in {e["dedup_key"] for e in emulator.events()},
            timeout_s=50,
            what="pool-b paged after the window",
        )
        released = next(e for e in emulator.events() if e["dedup_key"] == KEY_OF("pool-b"))
        lateness = parse_rfc3339(released["received_at"]) - parse_rfc3339(windows[0]["ends_at"])
        assert timedelta(0) <= lateness < timedelta(seconds=2)
        # pool-c recovered inside the window: the window's end, which queued pool-b's page,
        # queued nothing for it.
        rows = [r for r in delivery_log(env) if r["dedup_key"] == KEY_OF("pool-c")]
        assert [r["status"] for r in rows if r["action"] == "trigger"] == ["suppressed"]
        assert KEY_OF("pool-c") not in {e["dedup_key"] for e in emulator.events()}
        assert [a["severity"] for a in emulator.alerts("open")] == ["critical"]

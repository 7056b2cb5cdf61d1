"""Release change events through real processes: rbtk serve → the emulator's Change Events
API, in PagerDuty's recent changes, never an alert."""

from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import Emulator, Start
from tests.e2e.test_paging import add_connector, delivery_log, send
from tests.factories import OTHER_KEY, event
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_release_reaches_pagerdutys_recent_changes_and_pages_nobody(
    start: Start, admin: dict[str, str], emulator: Emulator
) -> None:
    with start() as service:
        env = {**admin, "RBTK_URL": service.url}
        add_connector(env)  # change events on by default
        add_connector(env, "pd-quiet", OTHER_KEY, "--no-default")
        at = datetime.now(UTC).replace(microsecond=0)

        send(env, event("rel-1", "release.published", at, tag="v1.4.0", branch="main"))

        [change] = wait_for(emulator.changes, what="the change event at PagerDuty")
        assert change["body"]["payload"] | {"timestamp": ""} == {
            "summary": "warehouse v1.4.0 released from main",
            "timestamp": "",
            "source": "roboticks",
            "custom_details": {
                "project": "warehouse", "tag": "v1.4.0", "branch": "main", "event_id": "rel-1",
            },
        }  # fmt: skip
        assert change["body"]["links"] == [
            {"href": "https://roboticks.test/r/warehouse", "text": "View in Roboticks"}
        ]
        assert emulator.alerts() == [] and emulator.events() == []
        [row] = wait_for(
            lambda: [r for r in delivery_log(env) if r["status"] == "sent"], what="logged sent"
        )
        assert (row["connector"], row["action"], row["event_id"]) == (
            "pd-production",
            "change",
            "rel-1",
        )

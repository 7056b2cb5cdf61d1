"""What fan-out reads for every event, kept in memory between changes.

Connectors, routing rules, suppression windows, chat channels and rules, runbooks and open
storms are
small and change rarely, yet fan-out needs all of them for every group of events. A
`Snapshots` holds the last one read and answers it again while `config_version` has not
moved; database triggers move it in the same transaction as any write to those tables
(migrations 0006, 0008), so a change made through any instance, or by hand in SQL, is seen
by the next event after it. Checking costs one single-row read instead of six table reads.
"""

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from rbtk.policy.rules import Rule
from rbtk.routing import chat, pagerduty, runbooks
from rbtk.routing.storms import OpenStorm, load_open
from rbtk.routing.suppression import Window, load_unreleased
from rbtk.store.tables import config_version


@dataclass(frozen=True)
class Snapshot:
    version: int
    targets: list[pagerduty.Target]
    rules: list[pagerduty.RouteRule]
    windows: list[Window]  # every window not yet released, whatever its time
    chat_rules: list[chat.ChatRule]
    chat_channels: list[chat.Channel]
    storms: dict[int, OpenStorm]  # each connector's open storm, by connector id
    runbooks: dict[Rule, str]  # each rule's runbook URL, linked from the incidents it opens

    def open_windows(self, now: datetime) -> list[Window]:
        """Windows active at `now` or later: the only ones that can hold a trigger back."""
        return [w for w in self.windows if w.ends_at > now]


class Snapshots:
    def __init__(self) -> None:
        self._last: Snapshot | None = None
        self._lock = threading.Lock()  # the writer and the scheduler read from two threads

    def read(self, connection: Connection) -> Snapshot:
        """The configuration as this transaction sees it."""
        version = connection.execute(
            select(config_version.c.version).where(config_version.c.id == 1)
        ).scalar_one()
        with self._lock:
            last = self._last
            if last is not None and last.version == version:
                return last
            self._last = last = Snapshot(
                version,
                targets=pagerduty.load_targets(connection),
                rules=pagerduty.load_rules(connection),
                windows=load_unreleased(connection),
                chat_rules=chat.load_rules(connection),
                chat_channels=chat.load_channels(connection),
                storms=load_open(connection),
                runbooks=runbooks.urls_by_rule(connection),
            )
            return last

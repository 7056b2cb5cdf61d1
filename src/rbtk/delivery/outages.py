"""Back off per endpoint, not per row: while a destination fails, only a probe reaches it.

An endpoint is where rows go: a PagerDuty Events API URL, one Slack webhook, the SMTP server.
When a send to it fails in a way that says the endpoint itself is down (a 5xx, a timeout, a
refused connection; not a 429 for one routing key, not a 400 for one event), its rows stop
being claimed. One row at a time is sent as a probe, at intervals that grow from
`RBTK_PROBE_FIRST_S` (0.5 s) to at most `RBTK_PROBE_MAX_S` (5 s) — so a long outage costs
the endpoint about 12 requests a minute per instance — and the first answer from it ends the
outage: every row waiting for it is made due at once (the caller does that in the database).

This state lives in the process, one copy per instance, on purpose. An instance learns of an
outage from its own first failed send and of the recovery from its own next probe, both
within seconds, so sharing it would gain little; storing it would add a write per failure
and a join to every claim. With N instances on PostgreSQL a failing endpoint sees N probes
per interval, still bounded. Rows are never lost either way: a restarted instance knows of no
outage, claims what is due, and wakes the waiting rows on its first success (`succeeded`).
"""

from dataclasses import dataclass, field

from rbtk.channels.base import Endpoint

FIRST_PROBE_S = 0.5
MAX_PROBE_S = 5.0


@dataclass
class _Outage:
    probe_at: float
    interval: float


@dataclass
class Outages:
    first_probe_s: float = FIRST_PROBE_S
    max_probe_s: float = MAX_PROBE_S
    _down: dict[Endpoint, _Outage] = field(default_factory=dict)
    _answered_at: dict[Endpoint, float] = field(default_factory=dict)

    def failing(self) -> list[Endpoint]:
        return list(self._down)

    def failed(self, endpoint: Endpoint, now: float, sent_at: float | None = None) -> bool:
        """A send (started at `sent_at`) found `endpoint` down; True when that starts an
        outage. A failure during one changes nothing, and neither does a request sent before
        the endpoint last answered: a request that hung before a recovery times out after
        it, and says nothing about the endpoint now."""
        if endpoint in self._down:
            return False
        if sent_at is not None and sent_at < self._answered_at.get(endpoint, float("-inf")):
            return False
        self._down[endpoint] = _Outage(now + self.first_probe_s, self.first_probe_s)
        return True

    def succeeded(self, endpoint: Endpoint, now: float) -> bool:
        """`endpoint` answered. True when rows may be waiting for that news: it was down, or
        this process has not heard from it before (it may have been down before a restart)."""
        was_down = self._down.pop(endpoint, None) is not None
        first = endpoint not in self._answered_at
        self._answered_at[endpoint] = now
        return was_down or first

    def probes_due(self, now: float) -> list[Endpoint]:
        """Endpoints to probe now, each with one row; the next probe of each is scheduled.

        Probes are started on time even while an earlier one is still waiting for an answer
        (a hung endpoint holds each for the whole request timeout): a recovery is noticed
        within one interval, and the interval still bounds the rate."""
        due = []
        for endpoint, outage in self._down.items():
            if outage.probe_at <= now:
                outage.interval = min(outage.interval * 2, self.max_probe_s)
                outage.probe_at = now + outage.interval
                due.append(endpoint)
        return due

    def next_probe_in(self, now: float) -> float | None:
        if not self._down:
            return None
        return max(0.0, min(o.probe_at for o in self._down.values()) - now)

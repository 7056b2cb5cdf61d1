"""The policy as a pure function: (state, input, now, config) -> (new state, notifications).

No I/O and no clock reads: `now` is always passed in, so tests and demos run on a virtual
clock and the service feeds it wall time.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from rbtk import events as ev
from rbtk.policy import keys
from rbtk.policy.rules import SEVERITY, PolicyConfig, Rule
from rbtk.policy.severity import Severity
from rbtk.policy.state import (
    Action,
    Condition,
    Kind,
    Notification,
    Outcome,
    Release,
    ReleaseKey,
    State,
    Tick,
)
from rbtk.timefmt import format_rfc3339

Input = ev.Event | Tick

_FAILING = frozenset({"failed", "error"})
_PASSING = frozenset({"passed"})


@dataclass(frozen=True)
class Scope:
    """The remembered state an event can read or change, so a store loads only that."""

    condition_keys: frozenset[str] = frozenset()
    release_keys: frozenset[ReleaseKey] = frozenset()


def scope(event: ev.Event) -> Scope:
    project, data = event.project_slug, event.data
    match data:
        case ev.RunnerPoolOffline() | ev.RunnerPoolOnline():
            return Scope(frozenset({keys.pool_offline(project, data.pool_name)}))
        case ev.EvidencePackGenerationFailed() | ev.EvidencePackGenerated():
            if data.release_tag is None:
                return Scope()
            return Scope(frozenset({keys.evidence_fail(project, data.release_tag)}))
        case ev.TestRunCompleted():
            tests = frozenset(keys.postrelease_fail(project, data.branch, t.id) for t in data.tests)
            return Scope(tests, frozenset({(project, data.branch)}))
        case ev.ReleasePublished():
            return Scope(release_keys=frozenset({(project, data.branch)}))
        case ev.StandardAmendmentPublished():
            return Scope(
                frozenset({keys.standard_amendment(project, data.standard, data.amendment)})
            )
    return Scope()


def apply(state: State, item: Input, now: datetime, config: PolicyConfig) -> Outcome:
    return apply_all(state, [item], now, config)


def apply_all(state: State, items: Iterable[Input], now: datetime, config: PolicyConfig) -> Outcome:
    """Apply inputs in order; the state passed in is never changed."""
    work = _Work(dict(state.conditions), dict(state.releases), now, config, [])
    for item in items:
        if isinstance(item, Tick):
            work.cause = None
            work.tick()
        else:
            work.cause = item
            work.event(item)
    return Outcome(State(work.conditions, work.releases), work.notifications)


def next_due(state: State) -> datetime | None:
    """When the policy next needs a Tick, so a scheduler can sleep until then."""
    return min((c.due_at for c in state.conditions.values() if c.due_at), default=None)


@dataclass
class _Work:
    conditions: dict[str, Condition]
    releases: dict[ReleaseKey, Release]
    now: datetime
    config: PolicyConfig
    notifications: list[Notification]
    cause: ev.Event | None = None

    def event(self, event: ev.Event) -> None:
        project, data = event.project_slug, event.data
        match data:
            case ev.RunnerPoolOffline():
                self.pool_offline(project, data, event.occurred_at)
            case ev.RunnerPoolOnline():
                self.resolve(keys.pool_offline(project, data.pool_name))
            case ev.EvidencePackGenerationFailed():
                self.evidence_failed(project, data, event.occurred_at)
            case ev.EvidencePackGenerated():
                if data.release_tag is not None:
                    self.resolve(keys.evidence_fail(project, data.release_tag))
            case ev.ReleasePublished():
                known = self.releases.get((project, data.branch))
                if known is None or known.published_at <= event.occurred_at:
                    self.releases[(project, data.branch)] = Release(data.tag, event.occurred_at)
            case ev.TestRunCompleted():
                self.test_run(project, data, event.occurred_at)
            case ev.StandardAmendmentPublished():
                self.standard_amended(project, data, event.occurred_at)

    def tick(self) -> None:
        due = [c for c in self.conditions.values() if c.due_at and c.due_at <= self.now]
        for condition in sorted(due, key=lambda c: (c.due_at, c.key)):
            self.evaluate_pool(condition)

    # runner pools: page once a threshold has passed, absorb flaps shorter than it

    def pool_offline(self, project: str, data: ev.RunnerPoolOffline, at: datetime) -> None:
        key = keys.pool_offline(project, data.pool_name)
        known = self.conditions.get(key)
        details: dict[str, Any] = {
            "project_slug": project,
            "pool_name": data.pool_name,
            "pool_type": data.pool_type,
            "airgapped": data.airgapped,
            "last_heartbeat_at": _iso(data.last_heartbeat_at),
            "queued_jobs": data.queued_jobs,
        }
        if known is None:
            since = data.last_heartbeat_at or at
            known = Condition(key, Kind.POOL_OFFLINE, project, since, details)
        else:
            known = replace(known, details=details)
        if not self.pool_thresholds(known):
            return
        self.evaluate_pool(known)

    def pool_thresholds(self, condition: Condition) -> list[tuple[timedelta, Rule]]:
        config, thresholds = self.config, []
        if condition.details["airgapped"] and Rule.AIRGAPPED_POOL_OFFLINE in config.enabled:
            thresholds.append((config.airgapped_offline_after, Rule.AIRGAPPED_POOL_OFFLINE))
        if Rule.POOL_OFFLINE in config.enabled:
            thresholds.append((config.pool_offline_after, Rule.POOL_OFFLINE))
        return thresholds

    def evaluate_pool(self, condition: Condition) -> None:
        offline_for = self.now - condition.since
        thresholds = self.pool_thresholds(condition)
        passed = [rule for after, rule in thresholds if offline_for >= after]
        rule = max(passed, key=lambda r: SEVERITY[r].rank, default=None)
        if rule is not None and _rises(condition, SEVERITY[rule]):
            condition = replace(condition, rule=rule)
            summary = _pool_summary(condition.details, offline_for)
            condition = self.trigger(condition, SEVERITY[rule], summary)
        # Look again only for a threshold that would raise the severity; never downgrade.
        later = [
            condition.since + after
            for after, r in thresholds
            if offline_for < after and _rises(condition, SEVERITY[r])
        ]
        self.conditions[condition.key] = replace(condition, due_at=min(later, default=None))

    # evidence packs: a failure on a release pages until a retry generates it

    def evidence_failed(
        self, project: str, data: ev.EvidencePackGenerationFailed, at: datetime
    ) -> None:
        if data.release_tag is None or Rule.EVIDENCE_PACK_FAILED not in self.config.enabled:
            return
        key = keys.evidence_fail(project, data.release_tag)
        details = {
            "project_slug": project,
            "release_tag": data.release_tag,
            "ref": data.ref,
            "error": data.error,
        }
        summary = f"Evidence pack generation failed for release {data.release_tag} of {project}"
        if data.error:
            summary += f": {data.error}"
        self.open(Condition(key, Kind.EVIDENCE_FAIL, project, at, details), summary)

    # post-release regressions: one incident per failing test id, resolved when it passes

    def test_run(self, project: str, data: ev.TestRunCompleted, at: datetime) -> None:
        if data.pull_request is not None:
            return
        for test in data.tests:
            key = keys.postrelease_fail(project, data.branch, test.id)
            known = self.conditions.get(key)
            if test.status in _PASSING and known is not None and known.since < at:
                self.resolve(key)
        release = self.releases.get((project, data.branch))
        if (
            data.status != "failed"
            or not data.default_branch
            or release is None
            or release.published_at >= at
            or Rule.POST_RELEASE_REGRESSION not in self.config.enabled
        ):
            return
        for test in data.tests:
            if test.status not in _FAILING:
                continue
            details = {
                "project_slug": project,
                "branch": data.branch,
                "test_id": test.id,
                "run_id": data.run_id,
                "release_tag": release.tag,
            }
            summary = (
                f"Test {test.id} failing on {data.branch} of {project} after release {release.tag}"
            )
            key = keys.postrelease_fail(project, data.branch, test.id)
            self.open(Condition(key, Kind.POSTRELEASE_FAIL, project, at, details), summary)

    # pinned safety standards: amended ones page (when switched on); closed by hand only

    def standard_amended(
        self, project: str, data: ev.StandardAmendmentPublished, at: datetime
    ) -> None:
        if not data.pinned or Rule.STANDARD_AMENDMENT not in self.config.enabled:
            return
        key = keys.standard_amendment(project, data.standard, data.amendment)
        details = {
            "project_slug": project,
            "standard": data.standard,
            "amendment": data.amendment,
            "title": data.title,
            "url": data.url,
        }
        summary = f"Pinned standard {data.standard} amended ({data.amendment})"
        if data.title:
            summary += f": {data.title}"
        self.open(Condition(key, Kind.STANDARD_AMENDMENT, project, at, details), summary)

    # shared steps

    def open(self, condition: Condition, summary: str) -> None:
        rule = _RULE_OF_KIND[condition.kind]
        if condition.key in self.conditions:
            condition = self.conditions[condition.key]
        if _rises(condition, SEVERITY[rule]):
            condition = self.trigger(replace(condition, rule=rule), SEVERITY[rule], summary)
        self.conditions[condition.key] = condition

    def notify(self, notification: Notification) -> None:
        if self.cause is not None:
            notification = replace(notification, event_id=self.cause.id, event_type=self.cause.type)
        self.notifications.append(notification)

    def trigger(self, condition: Condition, severity: Severity, summary: str) -> Condition:
        self.notify(
            Notification(
                Action.TRIGGER,
                condition.key,
                condition.kind,
                condition.rule,
                severity,
                summary,
                condition.project_slug,
                self.now,
                condition.details,
            )
        )
        return replace(condition, severity=severity)

    def resolve(self, key: str) -> None:
        condition = self.conditions.pop(key, None)
        if condition is None or condition.severity is None:
            return  # never paged: a flap, or nothing to close
        self.notify(
            Notification(
                Action.RESOLVE,
                key,
                condition.kind,
                condition.rule,
                condition.severity,
                f"Resolved: {key}",
                condition.project_slug,
                self.now,
                condition.details,
            )
        )


_RULE_OF_KIND: Mapping[Kind, Rule] = {
    Kind.EVIDENCE_FAIL: Rule.EVIDENCE_PACK_FAILED,
    Kind.POSTRELEASE_FAIL: Rule.POST_RELEASE_REGRESSION,
    Kind.STANDARD_AMENDMENT: Rule.STANDARD_AMENDMENT,
}


def _rises(condition: Condition, severity: Severity) -> bool:
    return condition.severity is None or severity > condition.severity


def _pool_summary(details: Mapping[str, Any], offline_for: timedelta) -> str:
    minutes = int(offline_for.total_seconds() // 60)
    noun = "Air-gapped pool" if details["airgapped"] else "Pool"
    unit = "minute" if minutes == 1 else "minutes"
    return f"{noun} {details['pool_name']} offline for {minutes} {unit}"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else format_rfc3339(moment)

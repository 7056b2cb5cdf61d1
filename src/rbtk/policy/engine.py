"""The policy as a pure function: (state, input, now, config) -> (new state, notifications).

No I/O and no clock reads: `now` is always passed in, so tests and demos run on a virtual
clock and the service feeds it wall time.

Each rule's conditions are written once, as checks that say whether an event can fire the
rule and why not (`_checks`). The engine acts on those checks and `explain` reports them,
so what pages and what rbtk says will page can never differ.

A trigger is emitted each time one of the rules starts to hold for a condition, at that
rule's severity, once per rule: an air-gapped pool offline for an hour has fired both the
15-minute critical rule and the 60-minute error rule. Which connector is sent which of
them (its toggles, its cap, only a rising severity per lane) is `rbtk.routing.lanes`' decision.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from rbtk.policy import keys
from rbtk.policy.events import (
    Event,
    EvidencePackGenerated,
    EvidencePackGenerationFailed,
    ReleasePublished,
    RunnerPoolOffline,
    RunnerPoolOnline,
    StandardAmendmentPublished,
    TestRunCompleted,
)
from rbtk.policy.rules import EVENT_TYPE, SEVERITY, PolicyConfig, Rule
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
from rbtk.runtime.timefmt import duration, format_rfc3339

Input = Event | Tick

_FAILING = frozenset({"failed", "error"})
_PASSING = frozenset({"passed"})


class Finding(StrEnum):
    """What a rule makes of an event."""

    PAGES = "pages"  # the rule holds now
    PENDING = "pending"  # it will hold at `RuleCheck.at` unless the condition clears first
    NO = "no"  # it cannot hold for this event; `reason` says why


@dataclass(frozen=True)
class RuleCheck:
    rule: Rule
    finding: Finding
    reason: str
    at: datetime | None = None  # when a pending rule will hold


@dataclass(frozen=True)
class Scope:
    """The remembered state an event can read or change, so a store loads only that."""

    condition_keys: frozenset[str] = frozenset()
    release_keys: frozenset[ReleaseKey] = frozenset()


def scope(event: Event) -> Scope:
    project, data = event.project_slug, event.data
    match data:
        case RunnerPoolOffline() | RunnerPoolOnline():
            return Scope(frozenset({keys.pool_offline(project, data.pool_name)}))
        case EvidencePackGenerationFailed() | EvidencePackGenerated():
            if data.release_tag is None:
                return Scope()
            return Scope(frozenset({keys.evidence_fail(project, data.release_tag)}))
        case TestRunCompleted():
            tests = frozenset(keys.postrelease_fail(project, data.branch, t.id) for t in data.tests)
            return Scope(tests, frozenset({(project, data.branch)}))
        case ReleasePublished():
            return Scope(release_keys=frozenset({(project, data.branch)}))
        case StandardAmendmentPublished():
            return Scope(
                frozenset({keys.standard_amendment(project, data.standard, data.amendment)})
            )
    return Scope()


def apply(state: State, item: Input, now: datetime, config: PolicyConfig) -> Outcome:
    return apply_all(state, [item], now, config)


def apply_all(state: State, items: Iterable[Input], now: datetime, config: PolicyConfig) -> Outcome:
    """Apply inputs in order; the state passed in is never changed."""
    draft = _Draft(dict(state.conditions), dict(state.releases), now, config, [])
    for item in items:
        if isinstance(item, Tick):
            draft.cause = None
            draft.tick()
        else:
            draft.cause = item
            paged = len(draft.notifications)
            draft.event(item)
            if len(draft.notifications) == paged and item.id not in draft.reasons:
                draft.note(f"no paging rule takes {item.type} events")
    return Outcome(State(draft.conditions, draft.releases), draft.notifications, draft.reasons)


def next_due(state: State) -> datetime | None:
    """When the policy next needs a Tick, so a scheduler can sleep until then."""
    return min((c.due_at for c in state.conditions.values() if c.due_at), default=None)


def explain(state: State, event: Event, now: datetime, config: PolicyConfig) -> list[RuleCheck]:
    """Which rules this event can fire, against the remembered state, and why not; an event
    type no rule takes gives no checks. Pure: nothing is applied."""
    project, data = event.project_slug, event.data
    if isinstance(data, RunnerPoolOffline):
        known = state.conditions
        condition = _pool_condition(known, project, data, event.occurred_at, now, event.id)
        return _pool_checks(condition, now, config)
    release = None
    if isinstance(data, TestRunCompleted):
        release = state.releases.get((project, data.branch))
    return _checks(event, release)


def summary(condition: Condition, now: datetime) -> str:
    """What a page for this condition says, true at `now` ("offline for 17 minutes")."""
    details = condition.details
    match condition.kind:
        case Kind.POOL_OFFLINE:
            return _pool_summary(details, now - condition.since)
        case Kind.EVIDENCE_FAIL:
            text = (
                f"Evidence pack generation failed for release {details['release_tag']} "
                f"of {condition.project_slug}"
            )
            return f"{text}: {details['error']}" if details.get("error") else text
        case Kind.POSTRELEASE_FAIL:
            return (
                f"Test {details['test_id']} failing on {details['branch']} of "
                f"{condition.project_slug} after release {details['release_tag']}"
            )
        case Kind.STANDARD_AMENDMENT:
            text = f"Pinned standard {details['standard']} amended ({details['amendment']})"
            return f"{text}: {details['title']}" if details.get("title") else text
    return f"{condition.kind}: {condition.key}"


def page(condition: Condition, now: datetime, *, event_id: str | None = None) -> Notification:
    """The trigger for a condition still firing, rebuilt at `now`: what a trigger held back
    by a suppression window says when it is finally sent."""
    assert condition.severity is not None, "only a condition that fired is paged"
    return Notification(
        Action.TRIGGER,
        condition.key,
        condition.kind,
        condition.rule,
        condition.severity,
        summary(condition, now),
        condition.project_slug,
        now,
        condition.details,
        event_id=event_id,
        event_type=None if condition.rule is None else EVENT_TYPE[condition.rule],
    )


# the rules' conditions, written once


def _checks(event: Event, release: Release | None) -> list[RuleCheck]:
    """Every rule the event's type can fire, and whether this event does (pools: see
    `_pool_checks`, which adds their thresholds)."""
    project, data = event.project_slug, event.data
    match data:
        case EvidencePackGenerationFailed():
            if data.release_tag is None:
                return [
                    _no(
                        Rule.EVIDENCE_PACK_FAILED,
                        "no release tag: evidence failures off a release never page",
                    )
                ]
            return [
                _pages(Rule.EVIDENCE_PACK_FAILED, f"evidence pack failed on {data.release_tag}")
            ]
        case TestRunCompleted():
            return [_regression_check(data, release, event.occurred_at)]
        case StandardAmendmentPublished():
            if not data.pinned:
                return [_no(Rule.STANDARD_AMENDMENT, f"{project} does not pin {data.standard}")]
            return [_pages(Rule.STANDARD_AMENDMENT, f"{project} pins {data.standard}")]
    return []


def _regression_check(data: TestRunCompleted, release: Release | None, at: datetime) -> RuleCheck:
    rule, branch = Rule.POST_RELEASE_REGRESSION, data.branch
    if data.pull_request is not None:
        return _no(rule, f"pull request #{data.pull_request}: runs on pull requests never page")
    if data.status != "failed":
        return _no(rule, "the run passed")
    if not data.default_branch:
        return _no(rule, f"{branch} is not the project's default branch")
    if release is None:
        return _no(rule, f"no release on {branch} yet")
    if release.published_at >= at:
        return _no(rule, f"the run is not after the latest release on {branch} ({release.tag})")
    failing = [t.id for t in data.tests if t.status in _FAILING]
    if not failing:
        return _no(rule, "the run failed, but no test in it is reported failing")
    tests = "1 failing test" if len(failing) == 1 else f"{len(failing)} failing tests"
    return _pages(rule, f"{tests} on {branch} after release {release.tag}")


def _thresholds(details: Mapping[str, Any], config: PolicyConfig) -> list[tuple[Rule, timedelta]]:
    """The pool rules that apply to a pool, with how long it must be offline for each."""
    rules = [(Rule.POOL_OFFLINE, config.pool_offline_after)]
    if details["airgapped"]:
        rules.insert(0, (Rule.AIRGAPPED_POOL_OFFLINE, config.airgapped_offline_after))
    return rules


def _pool_checks(condition: Condition, now: datetime, config: PolicyConfig) -> list[RuleCheck]:
    offline_for = now - condition.since
    checks = []
    if not condition.details["airgapped"]:
        checks.append(_no(Rule.AIRGAPPED_POOL_OFFLINE, "the pool is not air-gapped"))
    for rule, after in _thresholds(condition.details, config):
        limit = f"its {_threshold(after)} threshold"
        if offline_for >= after:
            checks.append(_pages(rule, f"offline for {_lasted(offline_for, after)}, past {limit}"))
        else:
            due = condition.since + after
            when = format_rfc3339(due.replace(microsecond=0))
            reason = (
                f"offline for {_lasted(offline_for, after)}: pages at {_threshold(after)} "
                f"offline ({when}) unless it is back online first"
            )
            checks.append(RuleCheck(rule, Finding.PENDING, reason, due))
    return sorted(checks, key=lambda c: list(Rule).index(c.rule))


def _pages(rule: Rule, reason: str) -> RuleCheck:
    return RuleCheck(rule, Finding.PAGES, reason)


def _no(rule: Rule, reason: str) -> RuleCheck:
    return RuleCheck(rule, Finding.NO, reason)


# applying inputs


@dataclass
class _Draft:
    """The state as the inputs change it (the caller's is never changed), the notifications
    they cause, and why each event did not page."""

    conditions: dict[str, Condition]
    releases: dict[ReleaseKey, Release]
    now: datetime
    config: PolicyConfig
    notifications: list[Notification]
    cause: Event | None = None
    # Why each event (by id) did not page where it did not, as the operator reads it.
    reasons: dict[str, list[str]] = field(default_factory=dict)

    def note(self, reason: str) -> None:
        if self.cause is not None:
            self.reasons.setdefault(self.cause.id, []).append(reason)

    def event(self, event: Event) -> None:
        project, data = event.project_slug, event.data
        match data:
            case RunnerPoolOffline():
                condition = _pool_condition(
                    self.conditions, project, data, event.occurred_at, self.now, event.id
                )
                self.evaluate_pool(condition, report=True)
            case RunnerPoolOnline():
                self.pool_back(keys.pool_offline(project, data.pool_name), data.pool_name)
            case EvidencePackGenerated():
                if data.release_tag is None:
                    self.note("no release tag: no evidence failure to resolve")
                elif self.resolve(keys.evidence_fail(project, data.release_tag)) is None:
                    self.note(f"no failed evidence pack open for {data.release_tag}")
            case ReleasePublished():
                known = self.releases.get((project, data.branch))
                if known is None or known.published_at <= event.occurred_at:
                    self.releases[(project, data.branch)] = Release(data.tag, event.occurred_at)
                    self.note(
                        f"releases never page: {data.tag} is now the latest release on "
                        f"{data.branch}, so failing runs after it are regressions"
                    )
                else:
                    self.note(f"older than the latest release on {data.branch} ({known.tag})")
            case TestRunCompleted():
                self.test_run(event, data)
            case EvidencePackGenerationFailed() | StandardAmendmentPublished():
                for check in _checks(event, None):
                    if check.finding is Finding.PAGES:
                        self.open(_condition(event, data), check.rule)
                    else:
                        self.note(check.reason)

    def tick(self) -> None:
        due = [c for c in self.conditions.values() if c.due_at and c.due_at <= self.now]
        for condition in sorted(due, key=lambda c: (c.due_at, c.key)):
            self.evaluate_pool(condition)

    def evaluate_pool(self, condition: Condition, *, report: bool = False) -> None:
        """Fire every pool rule whose threshold has passed and that has not fired yet, the
        most severe first; look again when the next one's threshold comes. `report`: say
        why a report of the pool fired nothing."""
        checks = _pool_checks(condition, self.now, self.config)
        passed = [c.rule for c in checks if c.finding is Finding.PAGES]
        fresh = [rule for rule in passed if rule not in condition.fired]
        for rule in sorted(fresh, key=lambda r: SEVERITY[r].rank, reverse=True):
            condition = self.trigger(condition, rule)
        if report and not fresh:
            for check in checks:
                if check.finding is Finding.PENDING:
                    self.note(f"pending ({check.rule}): {check.reason}")
                elif check.finding is Finding.PAGES:
                    self.note(f"already paged ({check.rule}): {check.reason}")
        later = [c.at for c in checks if c.at is not None and c.rule not in condition.fired]
        self.conditions[condition.key] = replace(condition, due_at=min(later, default=None))

    def test_run(self, event: Event, data: TestRunCompleted) -> None:
        project, at = event.project_slug, event.occurred_at
        if data.pull_request is None:
            for test in data.tests:
                key = keys.postrelease_fail(project, data.branch, test.id)
                known = self.conditions.get(key)
                if test.status in _PASSING and known is not None and known.since < at:
                    self.resolve(key)
        release = self.releases.get((project, data.branch))
        check = _regression_check(data, release, at)
        if check.finding is not Finding.PAGES or release is None:
            self.note(check.reason)
            return
        paged = len(self.notifications)
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
            key = keys.postrelease_fail(project, data.branch, test.id)
            failing = Condition(
                key, Kind.POSTRELEASE_FAIL, project, at, details, started_by=event.id
            )
            self.open(failing, check.rule)
        if len(self.notifications) == paged:
            self.note(f"already paged: every failing test's incident is open ({check.reason})")

    def open(self, condition: Condition, rule: Rule) -> None:
        """Fire a one-rule condition the first time; a repeat changes nothing."""
        condition = self.conditions.get(condition.key, condition)
        if rule not in condition.fired:
            condition = self.trigger(condition, rule)
        elif condition.kind is not Kind.POSTRELEASE_FAIL:  # a run's tests: noted once, above
            self.note(f"already paged: {condition.key} is open since {_iso(condition.since)}")
        self.conditions[condition.key] = condition

    def trigger(self, condition: Condition, rule: Rule) -> Condition:
        severity = SEVERITY[rule]
        raised = condition.severity is None or severity > condition.severity
        condition = replace(
            condition,
            fired=condition.fired | {rule},
            rule=rule if raised else condition.rule,
            severity=severity if raised else condition.severity,
        )
        self.notify(
            Notification(
                Action.TRIGGER,
                condition.key,
                condition.kind,
                rule,
                severity,
                summary(condition, self.now),
                condition.project_slug,
                self.now,
                condition.details,
                event_id=condition.started_by,
                event_type=EVENT_TYPE[rule],
            )
        )
        return condition

    def pool_back(self, key: str, pool: str) -> None:
        condition = self.resolve(key)
        if condition is None:
            self.note(f"no offline report open for pool {pool}: nothing to resolve")
        elif condition.severity is None:
            first = min(after for _, after in _thresholds(condition.details, self.config))
            self.note(
                f"pool back online after {_lasted(self.now - condition.since, first)}, "
                f"before its {_threshold(first)} threshold: never paged"
            )

    def resolve(self, key: str) -> Condition | None:
        """Close a condition; answer it (None when none was open). Only one that paged is
        resolved in PagerDuty: one that never fired was a flap."""
        condition = self.conditions.pop(key, None)
        if condition is None or condition.severity is None:
            return condition
        self.note(f"resolves {key}: a resolve goes wherever its trigger went")
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
        return condition

    def notify(self, notification: Notification) -> None:
        if self.cause is not None:
            notification = replace(notification, event_id=self.cause.id, event_type=self.cause.type)
        self.notifications.append(notification)


def _pool_condition(
    conditions: Mapping[str, Condition],
    project: str,
    data: RunnerPoolOffline,
    occurred_at: datetime,
    now: datetime,
    event_id: str,
) -> Condition:
    """The pool's condition with this report's details; offline time counts from the last
    heartbeat, else the event. A clock that runs ahead never mutes a pool: a heartbeat
    later than the event (or than now) counts from the event (or now), and says so. A new
    condition is started by this report (`event_id`)."""
    key = keys.pool_offline(project, data.pool_name)
    details: dict[str, Any] = {
        "project_slug": project,
        "pool_name": data.pool_name,
        "pool_type": data.pool_type,
        "airgapped": data.airgapped,
        "last_heartbeat_at": _iso(data.last_heartbeat_at),
        "queued_jobs": data.queued_jobs,
    }
    latest = min(occurred_at, now)
    since = data.last_heartbeat_at or occurred_at
    if since > latest:
        later_than = "the event" if since > occurred_at else "now"
        details["clock_skew"] = (
            f"{'last_heartbeat_at' if data.last_heartbeat_at else 'occurred_at'} "
            f"{format_rfc3339(since)} is later than {later_than}; offline time counts from "
            f"{format_rfc3339(latest)}"
        )
        since = latest
    known = conditions.get(key)
    if known is None:
        return Condition(key, Kind.POOL_OFFLINE, project, since, details, started_by=event_id)
    if known.since > now:  # remembered from a skewed clock: never let it mute the pool
        return replace(known, since=since, details=details)
    return replace(known, details=details)


def _condition(
    event: Event, data: EvidencePackGenerationFailed | StandardAmendmentPublished
) -> Condition:
    project, at = event.project_slug, event.occurred_at
    if isinstance(data, EvidencePackGenerationFailed):
        assert data.release_tag is not None
        details = {
            "project_slug": project,
            "release_tag": data.release_tag,
            "ref": data.ref,
            "error": data.error,
        }
        key = keys.evidence_fail(project, data.release_tag)
        return Condition(key, Kind.EVIDENCE_FAIL, project, at, details, started_by=event.id)
    details = {
        "project_slug": project,
        "standard": data.standard,
        "amendment": data.amendment,
        "title": data.title,
        "url": data.url,
    }
    key = keys.standard_amendment(project, data.standard, data.amendment)
    return Condition(key, Kind.STANDARD_AMENDMENT, project, at, details, started_by=event.id)


def _pool_summary(details: Mapping[str, Any], offline_for: timedelta) -> str:
    noun = "Air-gapped pool" if details["airgapped"] else "Pool"
    return f"{noun} {details['pool_name']} offline for {_lasted(offline_for, words=True)}"


_TO_THE_SECOND_S = 300


def _lasted(span: timedelta, threshold: timedelta | None = None, *, words: bool = False) -> str:
    """How long a condition has lasted: to the second under five minutes (a page at a 90 s
    threshold reads "offline for 1 minute 30 seconds", not "1 minute"), or beside a threshold
    set to the second ("1 min 31 s, past its 1 min 30 s threshold"); else to the minute, so a
    tick a moment late still reads "offline for 15 minutes"."""
    seconds = span.total_seconds()
    to_the_second = threshold is not None and _threshold(threshold).endswith(" s")
    if seconds >= _TO_THE_SECOND_S and not to_the_second:
        seconds -= seconds % 60
    return duration(seconds, words=words)


@cache  # a handful of thresholds, said several times for every pool report
def _threshold(after: timedelta) -> str:
    return duration(after.total_seconds())


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else format_rfc3339(moment)


def rules_of(event_type: str) -> Sequence[Rule]:
    """The rules an event type can fire (none for the types that only resolve or inform)."""
    return [rule for rule, of_type in EVENT_TYPE.items() if of_type == event_type]

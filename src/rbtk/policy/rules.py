"""The paging rules (the README's "What pages"), their defaults, and the policy's configuration."""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from rbtk.policy.severity import Severity
from rbtk.runtime.settings import Settings


class Rule(StrEnum):
    EVIDENCE_PACK_FAILED = "evidence_pack_failed"
    AIRGAPPED_POOL_OFFLINE = "airgapped_pool_offline"
    POOL_OFFLINE = "pool_offline"
    POST_RELEASE_REGRESSION = "post_release_regression"
    STANDARD_AMENDMENT = "standard_amendment"


SEVERITY: dict[Rule, Severity] = {
    Rule.EVIDENCE_PACK_FAILED: Severity.CRITICAL,
    Rule.AIRGAPPED_POOL_OFFLINE: Severity.CRITICAL,
    Rule.POOL_OFFLINE: Severity.ERROR,
    Rule.POST_RELEASE_REGRESSION: Severity.ERROR,
    Rule.STANDARD_AMENDMENT: Severity.WARNING,
}

EVENT_TYPE: dict[Rule, str] = {
    Rule.EVIDENCE_PACK_FAILED: "evidence_pack.generation_failed",
    Rule.AIRGAPPED_POOL_OFFLINE: "runner_pool.offline",
    Rule.POOL_OFFLINE: "runner_pool.offline",
    Rule.POST_RELEASE_REGRESSION: "test_run.completed",
    Rule.STANDARD_AMENDMENT: "standard.amendment_published",
}

# A new connector's toggles: every rule on but standard amendments.
DEFAULT_ENABLED: frozenset[Rule] = frozenset(Rule) - {Rule.STANDARD_AMENDMENT}


@dataclass(frozen=True)
class PolicyConfig:
    """The policy's thresholds. Every rule is always evaluated: each connector's toggles
    decide what it is sent (rbtk.routing.lanes)."""

    airgapped_offline_after: timedelta = timedelta(minutes=15)
    pool_offline_after: timedelta = timedelta(minutes=60)

    def __post_init__(self) -> None:
        for name in ("airgapped_offline_after", "pool_offline_after"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name} must not be negative")

    @classmethod
    def of(cls, settings: Settings) -> "PolicyConfig":
        """The thresholds as configured (RBTK_AIRGAPPED_OFFLINE_MINUTES and so on)."""
        return cls(
            airgapped_offline_after=timedelta(minutes=settings.airgapped_offline_minutes),
            pool_offline_after=timedelta(minutes=settings.pool_offline_minutes),
        )

"""Injected failures for Events API requests, drawn from a seeded generator so runs repeat."""

import random
from dataclasses import dataclass
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[StrictInt, Field(ge=0)]


class Faults(BaseModel):
    """The `/_control/faults` document.

    `force_429`: true answers every request 429, a number N only the next N.
    `drop_connections` is a fraction of requests; `drop_next` drops the next N for certain.
    `reject_next` answers the next N with PagerDuty's 400 "invalid event", so a permanent
    failure can be shown without building an invalid event.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    error_rate: Fraction = 0.0
    force_429: StrictBool | Count = False
    retry_after: Count | None = None
    latency_ms: Count = 0
    drop_connections: Fraction = 0.0
    drop_next: Count = 0
    reject_next: Count = 0


class FaultAction(Enum):
    NONE = "none"
    DROP = "drop"
    THROTTLE = "throttle"
    ERROR = "error"
    REJECT = "reject"


@dataclass(frozen=True)
class FaultDecision:
    action: FaultAction
    latency_s: float
    retry_after: int | None


class FaultInjector:
    """Decides each request's fate; counts down the "next N" faults as they are spent."""

    def __init__(self, faults: Faults, *, seed: int | None) -> None:
        self._seed = seed
        self.configure(faults)

    def configure(self, faults: Faults) -> None:
        # Re-seeding on every change makes "set faults, then send N requests" repeatable.
        self._rng = random.Random(self._seed)
        self._faults = faults
        self._always_429 = faults.force_429 is True
        self._remaining_429 = 0 if isinstance(faults.force_429, bool) else faults.force_429
        self._remaining_drops = faults.drop_next
        self._remaining_rejects = faults.reject_next

    @property
    def current(self) -> Faults:
        force_429: bool | int = self._always_429 or self._remaining_429 or False
        return self._faults.model_copy(
            update={
                "force_429": force_429,
                "drop_next": self._remaining_drops,
                "reject_next": self._remaining_rejects,
            }
        )

    def decide(self) -> FaultDecision:
        return FaultDecision(
            action=self._draw(),
            latency_s=self._faults.latency_ms / 1000,
            retry_after=self._faults.retry_after,
        )

    def _draw(self) -> FaultAction:
        if self._remaining_drops:
            self._remaining_drops -= 1
            return FaultAction.DROP
        if self._chance(self._faults.drop_connections):
            return FaultAction.DROP
        if self._remaining_rejects:
            self._remaining_rejects -= 1
            return FaultAction.REJECT
        if self._always_429:
            return FaultAction.THROTTLE
        if self._remaining_429:
            self._remaining_429 -= 1
            return FaultAction.THROTTLE
        if self._chance(self._faults.error_rate):
            return FaultAction.ERROR
        return FaultAction.NONE

    def _chance(self, probability: float) -> bool:
        # No draw when the fault is off, so one fault's setting never shifts another's sequence.
        return probability > 0 and self._rng.random() < probability

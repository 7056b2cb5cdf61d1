"""The emulator's start-up settings: what `POST /_control/reset` returns it to."""

from dataclasses import dataclass, field

from rbtk.emulator.faults import Faults
from rbtk.emulator.rest_access import RestSettings
from rbtk.emulator.services import Service
from rbtk.emulator.webhooks import DeliveryRules


@dataclass(frozen=True)
class EmulatorConfig:
    """`rate_limit` events per routing key per rolling `rate_window_s`; 0 turns limiting off.

    `seed` makes the injected faults repeatable; None draws them from a fresh random seed.
    `services` are known from the start (any other routing key feeds `PDEFAULT`); `rest` is
    the REST API's tokens and limits, as `PUT /_control/rest` takes them; `webhooks` how
    webhook deliveries are timed out and retried (PagerDuty's own rules by default).
    """

    rate_limit: int = 120
    rate_window_s: float = 60.0
    faults: Faults = field(default_factory=Faults)
    seed: int | None = None
    services: tuple[Service, ...] = ()
    rest: RestSettings = field(default_factory=RestSettings)
    webhooks: DeliveryRules = field(default_factory=DeliveryRules)

    def __post_init__(self) -> None:
        if self.rate_limit < 0:
            raise ValueError(f"rate_limit must be 0 (off) or more, not {self.rate_limit}")
        if self.rate_window_s <= 0:
            raise ValueError(f"rate_window_s must be more than 0, not {self.rate_window_s}")

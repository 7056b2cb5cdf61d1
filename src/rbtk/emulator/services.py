"""PagerDuty services: which routing keys feed each one, its settings, and the urgency it gives.

A routing key no configured service lists belongs to the implicit service `PDEFAULT`, so an
emulator nobody configured still files every alert somewhere. The settings are the ones rbtk's
service checks read, in the shapes PagerDuty's REST API v2 writes them
(tests/data/pagerduty-rest-v2-subset.json).
"""

from collections.abc import Iterable
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from rbtk.emulator.validation import ROUTING_KEY_LENGTH

DEFAULT_SERVICE_ID: Final = "PDEFAULT"
DEFAULT_SERVICE_NAME: Final = "Default Service"

Urgency = Literal["high", "low"]
Seconds = Annotated[StrictInt, Field(ge=0)]
# PagerDuty's Events API severities, by the urgency a severity_based rule gives them.
HIGH_SEVERITIES: Final = frozenset({"critical", "error"})


class UrgencyType(BaseModel):
    """One rule: `constant` with an urgency, or (at the top level only) `use_support_hours`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["constant", "use_support_hours"] = "constant"
    urgency: Literal["high", "low", "severity_based"] | None = None


class UrgencyRule(UrgencyType):
    """`incident_urgency_rule`: constant, or support hours with a rule during and outside."""

    during_support_hours: UrgencyType | None = None
    outside_support_hours: UrgencyType | None = None

    @model_validator(mode="after")
    def _complete(self) -> "UrgencyRule":
        if self.type == "constant" and self.urgency is None:
            raise ValueError(
                "a constant urgency rule needs an urgency: high, low or severity_based"
            )
        if self.type == "use_support_hours":
            for side in (self.during_support_hours, self.outside_support_hours):
                if side is None or side.type != "constant" or side.urgency is None:
                    raise ValueError(
                        "use_support_hours needs during_support_hours and outside_support_hours, "
                        'each {"type": "constant", "urgency": ...}'
                    )
        return self

    def urgency_for(self, severity: str) -> Urgency:
        """The urgency of a new incident; support hours are taken to be always on."""
        rule: UrgencyType = self
        if self.type == "use_support_hours" and self.during_support_hours is not None:
            rule = self.during_support_hours
        if rule.urgency == "severity_based":
            return "high" if severity in HIGH_SEVERITIES else "low"
        return "low" if rule.urgency == "low" else "high"


class AlertGrouping(BaseModel):
    """`alert_grouping_parameters`: type null is grouping off, what rbtk requires. The emulator
    reports the others but never groups: every alert opens its own incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["time", "intelligent", "content_based"] | None = None
    config: dict[str, Any] | None = None


class ServiceSettings(BaseModel):
    """The body of `PUT /_control/services/{id}`; fields left out take PagerDuty's defaults
    for a service created without them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    integration_keys: tuple[str, ...] = ()
    alert_creation: Literal["create_alerts_and_incidents", "create_incidents"] = (
        "create_alerts_and_incidents"
    )
    alert_grouping_parameters: AlertGrouping = AlertGrouping()
    auto_resolve_timeout: Seconds | None = None
    acknowledgement_timeout: Seconds | None = None
    incident_urgency_rule: UrgencyRule = UrgencyRule(urgency="high")

    @field_validator("integration_keys")
    @classmethod
    def _routing_keys(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        for key in keys:
            if len(key) != ROUTING_KEY_LENGTH:
                raise ValueError(
                    f"integration key {key[-4:]!r}… is not {ROUTING_KEY_LENGTH} characters long"
                )
        if len(set(keys)) != len(keys):
            raise ValueError("integration_keys lists a key twice")
        return keys

    @field_validator("auto_resolve_timeout", "acknowledgement_timeout")
    @classmethod
    def _zero_is_off(cls, seconds: int | None) -> int | None:
        # PagerDuty: "Setting this field to 0, null (or unset) will disable the feature."
        return seconds or None


class Service(ServiceSettings):
    id: str

    def to_json(self) -> dict[str, object]:
        """As `GET /_control/services` lists it: the settings as they were put, with the id."""
        return (
            {"id": self.id}
            | self.model_dump(mode="json", exclude={"id"})
            | {
                "alert_grouping_parameters": self.alert_grouping_parameters.model_dump(
                    mode="json", exclude_none=True
                )
                or {"type": None},
                "incident_urgency_rule": self.incident_urgency_rule.model_dump(
                    mode="json", exclude_none=True
                ),
            }
        )


def default_service() -> Service:
    return Service(id=DEFAULT_SERVICE_ID, name=DEFAULT_SERVICE_NAME)


class KeyTaken(ValueError):
    """A routing key feeds one service only, as an integration belongs to one service."""


class ServiceBook:
    def __init__(self, services: Iterable[Service] = ()) -> None:
        self._services: dict[str, Service] = {}
        for service in services:
            self.put(service)

    def put(self, service: Service) -> Service:
        """Create or replace; refuse a key another service already lists."""
        for other in self._services.values():
            taken = set(other.integration_keys) & set(service.integration_keys)
            if other.id != service.id and taken:
                raise KeyTaken(
                    f"integration key …{min(taken)[-4:]} already feeds service {other.id}; "
                    f"take it out of {other.id} first"
                )
        self._services[service.id] = service
        return service

    def get(self, service_id: str) -> Service | None:
        if service_id == DEFAULT_SERVICE_ID:
            return self._services.get(service_id) or default_service()
        return self._services.get(service_id)

    def for_key(self, routing_key: str) -> Service:
        for service in self._services.values():
            if routing_key in service.integration_keys:
                return service
        return self.get(DEFAULT_SERVICE_ID) or default_service()

    def all(self) -> list[Service]:
        """Every configured service by id, and the implicit one whether configured or not."""
        listed = dict(self._services)
        listed.setdefault(DEFAULT_SERVICE_ID, default_service())
        return [listed[service_id] for service_id in sorted(listed)]

"""Configuration from the environment (RBTK_*), validated once at start-up."""

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PAGERDUTY_US = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_EU = "https://events.eu.pagerduty.com/v2/enqueue"
PAGERDUTY_API_US = "https://api.pagerduty.com"
PAGERDUTY_API_EU = "https://api.eu.pagerduty.com"


class LimitsOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_per_min: int | None = Field(default=None, ge=0)
    timeout_s: float | None = Field(default=None, gt=0)
    concurrency: int | None = Field(default=None, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RBTK_", frozen=True)

    # The same for every command wherever it is run: not the current directory, where a
    # `rbtk tokens create` run elsewhere would make a second database the server never reads.
    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("rbtk", appauthor=False)))
    database_url: str | None = None
    secret_key: SecretStr | None = None  # masked in repr: settings may end up in a log
    base_url: str = "https://app.roboticks.io"
    # Where operators reach rbtk's own settings pages: a storm's umbrella incident links there.
    public_url: str = "http://127.0.0.1:8000"
    pagerduty_url: str = PAGERDUTY_US
    pagerduty_eu_url: str = PAGERDUTY_EU
    pagerduty_rate_per_min: int = Field(default=120, ge=0)
    # PagerDuty's REST API, read by reconcile and the service checks (rbtk.reconcile).
    pagerduty_api_url: str = PAGERDUTY_API_US
    pagerduty_eu_api_url: str = PAGERDUTY_API_EU
    # How often each connector with a REST API key is reconciled (and once after start);
    # 0 leaves it to the button and `rbtk admin pd reconcile`.
    reconcile_every_s: float = Field(default=600, ge=0)
    # PagerDuty applies events a moment after it answers them: a lane whose last answer is
    # younger than this is not judged yet, so an event still being applied is not mistaken
    # for drift.
    reconcile_grace_s: float = Field(default=60, ge=0)
    pagerduty_timeout_s: float = Field(default=10.0, gt=0)
    max_retry_age_s: float = Field(default=24 * 3600, gt=0)
    retry_base_s: float = Field(default=2.0, gt=0)
    retry_cap_s: float = Field(default=600.0, gt=0)
    # While an endpoint is down, one row at a time probes it, at intervals that double from
    # the first to the most (rbtk.delivery.outages).
    probe_first_s: float = Field(default=0.5, gt=0)
    probe_max_s: float = Field(default=5.0, gt=0)
    # How long a test send's request waits for the first answer before it answers 202 with
    # the queued row, which the page and the CLI then follow (rbtk.admin.probes).
    test_send_wait_s: float = Field(default=0.25, ge=0)
    delivery_batch: int = Field(default=500, ge=1)
    delivery_concurrency: int = Field(default=64, ge=1)
    # How long a claimed row stays another instance's to leave alone. Renewed while the row
    # is being sent, so it only bounds how long a dead instance's rows wait to be re-sent.
    delivery_lease_s: float = Field(default=15.0, gt=0)
    airgapped_offline_minutes: float = Field(default=15, ge=0)
    pool_offline_minutes: float = Field(default=60, ge=0)
    # Slack webhooks may reach loopback, private and link-local addresses (local receivers
    # in tests and demos); never in production, where a webhook could reach internal services.
    allow_private_webhooks: bool = False
    max_request_bytes: int = Field(default=5_000_000, ge=1024)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "rbtk@localhost"
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    smtp_concurrency: int = Field(default=4, ge=1)  # threads of email's own sender pool
    pagerduty_concurrency: int = Field(default=64, ge=1)
    # Any channel's limits, over what its module declares, as JSON by kind:
    # RBTK_CHANNEL_LIMITS='{"slack": {"rate_per_min": 30, "timeout_s": 5}}'
    channel_limits: dict[str, LimitsOverride] = {}
    # More than this many messages for one Slack or email channel within a minute go out as
    # one digest a minute (rbtk.outbox.chat.digests); 0 sends every message on its own.
    chat_digest_after: int = Field(default=10, ge=0)
    # Delivery rows, events, sent digests and ended storms older than this are pruned by
    # the scheduler (rbtk.outbox.log.retention); 0 keeps everything.
    retention_days: float = Field(default=30, ge=0)
    # A page undelivered (queued or retrying) for longer than this is stuck: every settings
    # page says so and the chat channels marked "rbtk health" are told (rbtk.outbox.log.stuck).
    stuck_after_s: float = Field(default=300, gt=0)
    # The longest the scheduler sleeps between passes while nothing falls due sooner: how
    # soon it sees a due time another instance wrote, and pages that became stuck or
    # recovered (rbtk.intake.scheduler).
    scheduler_pass_s: float = Field(default=5.0, gt=0)
    # How often the scheduler looks at an open storm, and how often at most its umbrella
    # incident is updated at PagerDuty when its count or severity changes
    # (rbtk.outbox.storms.umbrella):
    # the first update as soon as `storm_first_update_s` after the umbrella opened, so a storm
    # that clears within a minute still tells its size; then at most once per `storm_update_s`.
    storm_check_s: float = Field(default=5.0, gt=0)
    storm_first_update_s: float = Field(default=5.0, gt=0)
    storm_update_s: float = Field(default=60.0, gt=0)
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
        return value

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'rbtk.db'}"

    def pagerduty_endpoint(self, region: str) -> str:
        return self.pagerduty_eu_url if region == "eu" else self.pagerduty_url

    def pagerduty_api(self, region: str) -> str:
        return self.pagerduty_eu_api_url if region == "eu" else self.pagerduty_api_url

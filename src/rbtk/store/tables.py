"""The database schema: one metadata for SQLite and PostgreSQL, migrated by Alembic."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    text,
    true,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to the database")
        return (
            value.astimezone(UTC)
            if dialect.name != "sqlite"
            else value.astimezone(UTC).replace(tzinfo=None)
        )

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

events = Table(
    "events",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("type", String(255), nullable=False),
    Column("project_slug", String(128), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    # What the event did: whether it reached some connector's log, and the reasons it did
    # not page where it did not (NULL for events stored before rbtk kept them).
    Column("paged", Boolean),
    Column("reasons", JSON),
    # Each connector's decision on its pages (rbtk.outbox.pipeline.stages.Note.to_json), in order.
    Column("decisions", JSON),
    Index("ix_events_received", "received_at", "id"),
)

conditions = Table(
    "conditions",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("project_slug", String(128), nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("rule", String(64)),
    Column("severity", String(16)),
    Column("due_at", UTCDateTime),
    Column("details", JSON, nullable=False),
    Column("fired", JSON, nullable=False),  # the rules that have triggered for it
    # The event that started it: a page a threshold tick sends later is that event's page.
    Column("started_by", String(255)),
    Index("ix_conditions_due_at", "due_at"),
)

releases = Table(
    "releases",
    metadata,
    Column("project_slug", String(128), primary_key=True),
    Column("branch", String(1024), primary_key=True),
    Column("tag", String(1024), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
)

connectors = Table(
    "connectors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("routing_key", LargeBinary, nullable=False),  # Fernet token, never the clear key
    Column("key_fingerprint", String(64), nullable=False),
    Column("key_last4", String(4), nullable=False),
    Column("region", String(8), nullable=False, default="us"),
    Column("rules", JSON, nullable=False),
    Column("send_info", Boolean, nullable=False, default=False),
    # Releases of the projects it takes go to its service as change events (never a page).
    Column("change_events", Boolean, nullable=False, server_default=true()),
    Column("is_default", Boolean, nullable=False, default=True),
    Column("max_severity", String(16)),  # None: no cap
    # Storm collapse (rbtk.outbox.storms): past `storm_threshold` new incidents within
    # `storm_window_s`, one umbrella incident pages for the rest.
    Column("storm_collapse", Boolean, nullable=False, server_default=text("true")),
    Column("storm_threshold", Integer, nullable=False, server_default=text("20")),
    Column("storm_window_s", Integer, nullable=False, server_default=text("60")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Reconcile (rbtk.reconcile): a PagerDuty REST API key (Fernet token; read-only is
    # enough) and the service it reads; both optional.
    Column("rest_key", LargeBinary),
    Column("rest_key_last4", String(4)),
    Column("service_id", String(32)),
    # A lane resolved by hand in PagerDuty while still firing in rbtk is paged again.
    Column("repage_resolved_by_hand", Boolean, nullable=False, server_default=false()),
    # When a test event was last seen arrive as an incident on the service, at what urgency.
    Column("verified_at", UTCDateTime),
    Column("verified_urgency", String(8)),
    # When the "rbtk health" channels were last told it is overdue for an end-to-end test.
    Column("verify_reminded_at", UTCDateTime),
)

# Ordered PagerDuty routing: the first rule matching an event's project and type decides.
routing_rules = Table(
    "routing_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("position", Integer, nullable=False, unique=True),
    Column("project", String(255)),  # exact slug or glob; None matches every project
    Column("event_type", String(255)),  # exact type or glob; None matches every type
    Column("connectors", JSON, nullable=False),  # connector names
    Column("created_at", UTCDateTime, nullable=False),
)

# Maintenance windows: triggers are held back while one covers a connector.
suppressions = Table(
    "suppressions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "connector_id", Integer, ForeignKey("connectors.id", ondelete="CASCADE"), nullable=False
    ),
    Column("connector_name", String(64), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ended_early_at", UTCDateTime),
    Column("ended_by", String(128)),  # who ended it early
    # Set once held-back triggers were released after the end: the scheduler's work list.
    Column("released_at", UTCDateTime),
    Index("ix_suppressions_pending_end", "released_at", "ends_at"),
)

# Chat channels (Slack, email, webhooks) for everything that does not page. Each kind's
# destination, as its channel module checked it (`rbtk.channels.base.Destination`).
notify_channels = Table(
    "notify_channels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # a key of rbtk.channels.registry.CHAT
    Column("secret", LargeBinary),  # Fernet token of its one secret (a Slack webhook URL)
    Column("secret_last4", String(4)),
    Column("config", JSON, nullable=False),  # the rest, in the clear (email recipients)
    Column("endpoint", String(2048), nullable=False),  # where the delivery log says it went
    Column("created_at", UTCDateTime, nullable=False),
    # Marked "rbtk health": told when rbtk itself cannot page (a page stuck retrying).
    Column("health", Boolean, nullable=False, server_default=false()),
)

notify_rules = Table(
    "notify_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("position", Integer, nullable=False, unique=True),
    Column("project", String(255)),
    Column("event_type", String(255)),
    Column("channels", JSON, nullable=False),  # channel names
    Column("created_at", UTCDateTime, nullable=False),
)

# Where each open incident was triggered, with the key that triggered it, so its resolve
# reaches the same place even after the connector's key or routing changed.
incidents = Table(
    "incidents",
    metadata,
    Column("connector_id", Integer, ForeignKey("connectors.id"), primary_key=True),
    Column("dedup_key", String(255), primary_key=True),
    Column("routing_key", LargeBinary, nullable=False),
    Column("key_fingerprint", String(64), nullable=False),
    Column("region", String(8), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    # announced: a trigger was queued for PagerDuty, so a resolve must follow.
    # held: a trigger waits on a suppression window and is sent when the window ends.
    Column("announced", Boolean, nullable=False),
    Column("held", Boolean, nullable=False),
    # The severity this lane was paged (or held) at: only a higher one is sent again.
    Column("severity", String(16)),
    # When its first trigger was queued to be sent: what storm detection counts.
    Column("triggered_at", UTCDateTime),
    # The storm holding its trigger (held is then true), sent if still firing at its end.
    Column("storm_id", Integer),
    # Found resolved in PagerDuty (by hand) while still firing here, by reconcile.
    Column("resolved_in_pagerduty_at", UTCDateTime),
    # PagerDuty's side, as its webhooks last told it (rbtk.reconcile.webhooks): triggered,
    # acknowledged or resolved; by whom (the agent's name); when it happened there.
    Column("pagerduty_status", String(16)),
    Column("pagerduty_by", String(255)),
    Column("pagerduty_at", UTCDateTime),
    Index("ix_incidents_dedup_key", "dedup_key"),
    Index("ix_incidents_held", "connector_id", "held"),
    Index("ix_incidents_triggered", "connector_id", "triggered_at"),
    Index("ix_incidents_storm", "storm_id"),
)

# A storm: one connector's fleet-wide burst of new incidents, paged as one umbrella incident
# (rbtk.outbox.storms). Open while `ended_at` is None; the scheduler looks at it at `check_at`.
storms = Table(
    "storms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector_id", Integer, ForeignKey("connectors.id", ondelete="CASCADE")),
    Column("connector_name", String(64), nullable=False),
    Column("dedup_key", String(255), nullable=False, unique=True),  # the umbrella's
    Column("started_at", UTCDateTime, nullable=False),
    Column("check_at", UTCDateTime, nullable=False),
    # The umbrella as last queued: when, and its summary and severity (an update is queued
    # only when they change, at most once a minute).
    Column("umbrella_at", UTCDateTime),
    Column("umbrella_summary", Text),
    Column("umbrella_severity", String(16)),
    Column("peak", Integer, nullable=False, server_default=text("0")),  # most members firing
    Column("peak_summary", Text),  # the umbrella's summary at the peak: told at the storm's end
    Column("quiet_since", UTCDateTime),  # since when fewer than the threshold are firing
    Column("ended_at", UTCDateTime),
    Column("released", Integer),  # members still firing at the end, paged one by one
    Index("ix_storms_open", "ended_at", "check_at"),
)

# The outbox is also the delivery log: rows are kept after they are final. A row names
# either the PagerDuty connector it pages or the chat channel it posts to, never both: a
# chat channel named like a connector is not that connector.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector_id", Integer, ForeignKey("connectors.id", ondelete="SET NULL")),
    Column("channel", String(16), nullable=False),  # a key of rbtk.channels.registry.CHANNELS
    Column("connector_name", String(64)),  # PagerDuty rows: the connector; None on chat rows
    Column("channel_name", String(64)),  # chat rows: the chat channel; None on PagerDuty rows
    # Fernet token of the secret destination: a routing key or a Slack webhook URL.
    Column("destination", LargeBinary, nullable=False),
    Column("key_fingerprint", String(64), nullable=False),
    Column("endpoint", String(2048), nullable=False),
    Column("event_id", String(255)),
    Column("event_type", String(255)),
    Column("project_slug", String(128)),
    Column("dedup_key", String(255), nullable=False),
    Column("action", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("body", JSON, nullable=False),  # without routing_key: it is added at send time
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime),
    Column("claimed_until", UTCDateTime),
    Column("http_status", Integer),
    Column("message", Text),
    Column("errors", JSON),
    Column("latency_ms", Float),
    Column("suppression_id", Integer),
    Column("storm_id", Integer),  # the storm that held this trigger as a member
    Column("digest_id", Integer),  # the digest that carries this chat message
    Index(
        "ix_outbox_pending",
        "priority",
        "id",
        sqlite_where=text("status IN ('queued', 'retrying')"),
        postgresql_where=text("status IN ('queued', 'retrying')"),
    ),
    # A lane (rows sent strictly in order) is one connector's or one chat channel's dedup key.
    Index("ix_outbox_lane", "connector_name", "dedup_key", "id"),
    Index("ix_outbox_dedup_key", "dedup_key", "id"),  # the log filtered by a key, a page at once
    Index("ix_outbox_channel_lane", "channel_name", "dedup_key", "id"),
    Index("ix_outbox_status", "status", "id"),
    Index("ix_outbox_budget", "channel", "last_attempt_at", "key_fingerprint"),
    Index("ix_outbox_created", "created_at"),
    Index("ix_outbox_storm", "storm_id", "id"),
    Index("ix_outbox_digest", "digest_id", "id"),
    Index("ix_outbox_channel_created", "channel_name", "created_at"),
    Index("ix_outbox_event", "event_id"),
    CheckConstraint(
        "(connector_name IS NULL) <> (channel_name IS NULL)", name="ck_outbox_one_name"
    ),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# Settings-page sign-ins. The cookie holds a random id; only its hash is stored, with the
# token signed in with: a request is signed in while its row exists, has not expired and
# its token is an admin token not revoked (one read by primary key, joined to the token).
sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("token_id", Integer, ForeignKey("tokens.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_sessions_token_id", "token_id"),
    Index("ix_sessions_expires_at", "expires_at"),
)

# One row: a Fernet token of a fixed text, written with the key that encrypts the stored
# secrets. A start whose keys cannot decrypt it is refused (rbtk.secret_keys), rather than
# accepting events it could never deliver.
secret_key_check = Table(
    "secret_key_check",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("token", LargeBinary, nullable=False),
    Column("written_at", UTCDateTime, nullable=False),
)

# A chat channel's digest: the messages of a burst, sent as one at `due_at`
# (rbtk.outbox.chat.digests). Collecting while `sent_at` is None.
digests = Table(
    "digests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", Integer, ForeignKey("notify_channels.id", ondelete="CASCADE")),
    Column("channel_name", String(64), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("messages", Integer),  # how many it carried, once sent
    Index("ix_digests_due", "sent_at", "due_at"),
)

# A runbook URL per paging rule (rbtk.policy.rules.Rule), linked from every incident it opens.
runbooks = Table(
    "runbooks",
    metadata,
    Column("rule", String(64), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row whose version moves with every write to CONFIG_TABLES (database triggers, migration
# 0006; 0015 for runbooks): what fan-out keeps in memory is read again only when it moved
# (rbtk.routing.snapshot).
config_version = Table(
    "config_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("version", BigInteger, nullable=False),
)
# Storms move it too, as one opens or ends (migration 0008): fan-out keeps the open ones.
CONFIG_TABLES = (connectors, routing_rules, suppressions, notify_channels, notify_rules, runbooks)

# Every configuration change (rbtk.admin.audit), written in the transaction that makes it:
# who (the token's name), what, on what, the state before and after (secrets only masked).
# Kept: retention (rbtk.outbox.log.retention) never prunes it. Newest first by id.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),  # "connector.update"
    Column("target", String(255), nullable=False),  # "pd-production", "window #3"
    Column("before", JSON),  # None: it did not exist
    Column("after", JSON),  # None: it no longer exists
    Index("ix_audit_log_at", "at", "id"),
    Index("ix_audit_log_action", "action", "id"),
    Index("ix_audit_log_target", "target", "id"),
)

# One summary per reconcile pass of a connector (rbtk.reconcile): what it found and did.
reconcile_runs = Table(
    "reconcile_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector_id", Integer, ForeignKey("connectors.id", ondelete="CASCADE")),
    Column("connector_name", String(64), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("found", Integer, nullable=False),  # disagreements between rbtk and PagerDuty
    Column("fixed", Integer, nullable=False),  # acted on: a resolve sent again, a page again
    Column("left", Integer, nullable=False),  # left to the operator
    Column("error", Text),  # why the pass could not read PagerDuty
    Column("details", JSON, nullable=False),  # the dedup keys of each finding
    Index("ix_reconcile_runs_connector", "connector_name", "id"),
    Index("ix_reconcile_runs_finished", "finished_at"),  # what retention prunes
)

# When each connector's periodic reconcile pass is next due: the instance whose conditional
# update moves it runs the pass.
reconcile_due = Table(
    "reconcile_due",
    metadata,
    Column(
        "connector_id",
        Integer,
        ForeignKey("connectors.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("due_at", UTCDateTime, nullable=False),
)

# One row (migration 0011; the table is named "health"): since when pages have been stuck
# undelivered, as told to the chat channels marked "rbtk health"; NULL while nothing is stuck
# (rbtk.outbox.log.stuck).
stuck_notice = Table(
    "health",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("stuck_since", UTCDateTime),
)

# Each connector's PagerDuty webhook subscription (rbtk.reconcile.webhooks): its id at
# PagerDuty, where it delivers, and the secret its deliveries are signed with (Fernet token),
# with the one before it while PagerDuty may still sign with either.
pagerduty_webhooks = Table(
    "pagerduty_webhooks",
    metadata,
    Column(
        "connector_id",
        Integer,
        ForeignKey("connectors.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("subscription_id", String(64), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("secret", LargeBinary, nullable=False),
    Column("previous_secret", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
)

# Each webhook delivery received, stored raw before it is answered and applied after
# (`processed_at` NULL until then); a delivery PagerDuty repeats (same X-Webhook-Id) is one row.
pagerduty_webhook_events = Table(
    "pagerduty_webhook_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "connector_id", Integer, ForeignKey("connectors.id", ondelete="CASCADE"), nullable=False
    ),
    Column("webhook_id", String(255), nullable=False),
    Column("event_type", String(255)),
    Column("received_at", UTCDateTime, nullable=False),
    Column("body", Text, nullable=False),
    Column("processed_at", UTCDateTime),
    Index("ix_pagerduty_webhook_events_delivery", "connector_id", "webhook_id", unique=True),
    Index("ix_pagerduty_webhook_events_pending", "processed_at", "id"),
)

"""Integrations → PagerDuty → Delivery log: every trigger and resolve and what became of it,
and, with the channel filter, every chat message (Slack, email, webhook) too.

GET /settings/integrations/pagerduty/deliveries?kind=&connector=&channel=&status=&action=
        &project=&dedup_key=&period=&before_id=&after_id=
    the page; with the header `X-Refresh: rows`, only its table, for the page's script
    to refresh it in place while it is open. `kind` is pagerduty (the default), `chat`
    (every chat channel) or one chat kind; `connector` narrows PagerDuty rows, `channel`
    chat rows (a chat channel's name, which alone implies `kind=chat`). A `dedup_key`
    ending in `*` matches every key starting so.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rbtk.admin import chat_channels, connectors
from rbtk.api.deps import Ctx
from rbtk.channels import pagerduty, registry
from rbtk.channels.registry import CHAT
from rbtk.outbox.log import activity, delivery_log
from rbtk.outbox.status import Status
from rbtk.runtime.timefmt import parse_rfc3339
from rbtk.web.auth import SignedIn
from rbtk.web.chart import chart
from rbtk.web.labels import STATUS_WORDS
from rbtk.web.pages.connectors import PREFIX
from rbtk.web.render import fragment, page

ACTIONS = {"trigger": "Triggers", "resolve": "Resolves", "change": "Release change events"}
EVERY_CHAT = "chat"  # the channel filter's value for every chat kind at once
PAGE_SIZE = 100
REFRESH_S = 5
PERIODS = {
    "": ("Any time", None),
    "15m": ("Last 15 minutes", timedelta(minutes=15)),
    "1h": ("Last hour", timedelta(hours=1)),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
}

router = APIRouter(prefix=PREFIX, dependencies=[SignedIn], include_in_schema=False)


@dataclass(frozen=True)
class Filters:
    kind: str  # "" for PagerDuty, EVERY_CHAT, or a key of CHAT
    connector: str  # PagerDuty rows only
    channel: str  # chat rows only
    status: str
    action: str  # PagerDuty rows only
    project: str
    dedup_key: str  # a key, or the start of keys followed by "*"
    period: str

    @property
    def chat(self) -> bool:
        return bool(self.kind)

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set: the page then keeps the filters in sight, even on a phone."""
        return any(vars(self).values())

    @property
    def exact_key(self) -> str | None:
        return None if self.dedup_key.endswith("*") else self.dedup_key or None

    @property
    def key_prefix(self) -> str | None:
        """A dedup key ending in "*" asks for every key starting so."""
        return self.dedup_key.rstrip("*") or None if self.dedup_key.endswith("*") else None

    @property
    def kinds(self) -> tuple[str, ...]:
        if not self.kind:
            return (pagerduty.kind,)
        return tuple(CHAT) if self.kind == EVERY_CHAT else (self.kind,)

    def query(self, **extra: Any) -> str:
        values = {k: v for k, v in vars(self).items() if v}
        values.update({k: v for k, v in extra.items() if v is not None})
        return urlencode(values)


@router.get("/deliveries")
def delivery_log_page(
    request: Request,
    context: Ctx,
    kind: str = "",
    connector: str = "",
    channel: str = "",
    status: str = "",
    action: str = "",
    project: str = "",
    dedup_key: str = "",
    period: str = "",
    before_id: int | None = None,
    after_id: int | None = None,
) -> Response:
    problems = []
    if status and status not in Status.__members__.values():
        problems.append(f"Unknown status {status!r}: showing every status.")
        status = ""
    if action and action not in ACTIONS:
        problems.append(f"Unknown action {action!r}: showing every action.")
        action = ""
    if period not in PERIODS:
        problems.append(f"Unknown period {period!r}: showing any time.")
        period = ""
    kind, connector, channel = kind.strip(), connector.strip(), channel.strip()
    if kind == pagerduty.kind or (not kind and not channel):
        kind, channel = "", ""
    elif not kind:
        kind = EVERY_CHAT
    elif kind != EVERY_CHAT and kind not in CHAT:
        problems.append(f"Unknown channel {kind!r}: showing PagerDuty's deliveries.")
        kind, channel = "", ""
    filters = Filters(
        kind,
        "" if kind else connector,
        channel,
        status,
        "" if kind else action,
        project.strip(),
        dedup_key.strip(),
        period,
    )
    span = PERIODS[period][1]
    paged = bool(before_id and before_id > 0) or after_id is not None
    with context.reads.connect() as connection:
        answer = delivery_log.query(
            connection,
            channels=filters.kinds,
            connector=filters.connector or None,
            channel_name=filters.channel or None,
            status=status or None,
            action=filters.action or None,
            project=filters.project or None,
            dedup_key=filters.exact_key,
            dedup_prefix=filters.key_prefix,
            since=datetime.now(UTC) - span if span else None,
            limit=PAGE_SIZE,
            before_id=before_id if before_id and before_id > 0 else None,
            after_id=after_id if after_id is not None and after_id >= 0 else None,
            count=True,
            rates=registry.rates(context.settings),
        )
    rows = linked(answer.deliveries)
    values: dict[str, Any] = {
        "rows": rows,
        "filters": filters,
        "older": answer.next_before_id,
        "newer": answer.next_after_id,
        "total": answer.total or 0,
        "total_is_lower_bound": (answer.total or 0) >= delivery_log.TOTAL_UP_TO,
        "statuses": STATUS_WORDS,
        "refreshed_at": datetime.now(UTC),
    }
    if request.headers.get("X-Refresh") == "rows":
        return fragment(request, "_delivery_rows.html", **values)
    with context.reads.connect() as connection:
        names = [view.name for view in connectors.list_all(connection)]
        hours = None if filters.chat else activity.last_day(connection, now=datetime.now(UTC))
        chats = [
            view.name
            for view in chat_channels.list_channels(connection)
            if view.kind in filters.kinds
        ]
    if filters.connector and filters.connector not in names:
        names.append(filters.connector)
    if filters.channel and filters.channel not in chats:
        chats.append(filters.channel)
    return page(
        request,
        "deliveries.html",
        title="Delivery log",
        names=names,
        chats=chats,
        kinds={EVERY_CHAT: "Every chat channel", **{k: c.label for k, c in CHAT.items()}},
        pagerduty_kind=pagerduty.kind,
        periods={key: label for key, (label, _) in PERIODS.items()},
        problems=problems,
        actions=ACTIONS,
        activity=None if hours is None else chart(hours),
        refresh_s=None if paged else REFRESH_S,
        **values,
    )


@dataclass
class Row:
    delivery: dict[str, Any]
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime
    pair_id: int | None = None  # the trigger of a resolve, or the resolve of a trigger
    lane: int = 0  # rows of one connector (or chat channel) and dedup key share a lane number

    @property
    def waiting_until(self) -> datetime | None:
        waiting = self.delivery.get("waiting")
        return parse_rfc3339(waiting["until"]) if waiting else None

    @property
    def chat_label(self) -> str:
        """A chat row's kind as people read it ("Slack"); empty for a PagerDuty row."""
        kind = self.delivery["channel"]
        return CHAT[kind].label if kind in CHAT else ""


def linked(deliveries: list[dict[str, Any]]) -> list[Row]:
    """Newest first, each trigger linked to the resolve that followed it for the same key on
    the same connector, and each resolve to its trigger (when both are on the page)."""
    rows = [
        Row(
            delivery=d,
            created_at=parse_rfc3339(d["created_at"]),
            last_attempt_at=parse_rfc3339(d["last_attempt_at"]) if d["last_attempt_at"] else None,
            next_attempt_at=parse_rfc3339(d["next_attempt_at"]),
        )
        for d in deliveries
    ]
    lanes: dict[tuple[str, str, str], int] = {}
    waiting: dict[tuple[str, str, str], Row] = {}  # the newest resolve not yet paired, per lane
    for row in rows:  # newest first: a resolve is met before the trigger it closes
        d = row.delivery
        lane = (d["channel"], d["connector"] or d["channel_name"], d["dedup_key"])
        row.lane = lanes.setdefault(lane, len(lanes))
        if row.delivery["action"] == "resolve":
            waiting[lane] = row
        elif lane in waiting:
            resolve = waiting.pop(lane)
            resolve.pair_id, row.pair_id = row.delivery["id"], resolve.delivery["id"]
    return rows

"""A pager that cannot page must not be silent.

When a page (a trigger or resolve for PagerDuty) has waited undelivered, queued or retrying,
for longer than `RBTK_STUCK_AFTER_S`, every settings page says so (`summary`) and each chat
channel marked "rbtk health" gets one message; when nothing is stuck any more, one message
says it recovered. Once per episode, not per scheduler pass, whichever instance notices
first: the `stuck_notice` row says since when the channels were told, and only the
transaction whose conditional update changes it queues the messages.

The messages go through the outbox as chat rows, so they are retried and logged like any
other, but past the chat rules (they are about rbtk, not an event) and past digests.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import Connection, Engine, select, update

from rbtk.channels.message import Message
from rbtk.outbox.chat import messages
from rbtk.outbox.log import undelivered
from rbtk.outbox.log.undelivered import Stuck
from rbtk.outbox.rows import insert_rows
from rbtk.routing.snapshot import Snapshots
from rbtk.runtime.settings import Settings
from rbtk.runtime.timefmt import format_rfc3339, span
from rbtk.store.db import reads_only
from rbtk.store.tables import stuck_notice

log = logging.getLogger(__name__)

DELIVERY_LOG = "/settings/integrations/pagerduty/deliveries"
STUCK = "rbtk.health.stuck"
RECOVERED = "rbtk.health.recovered"


@dataclass(frozen=True)
class Told:
    """What a pass changed: the messages it queued, and about what."""

    queued: int = 0
    event_type: str | None = None  # STUCK or RECOVERED; None: nothing changed


def find(connection: Connection, *, settings: Settings, now: datetime) -> Stuck | None:
    return undelivered.stuck(connection, now=now, after=timedelta(seconds=settings.stuck_after_s))


def summary(stuck: Stuck, *, stuck_after_s: float) -> str:
    """ "rbtk cannot page: 3 pages have been retrying for over 5 min (oldest: pd-prod,
    rbtk:pool-offline:…, 7 min, HTTP 500 …)." """
    oldest = stuck.oldest
    count = f"{stuck.count:,}{'+' if stuck.count >= undelivered.MOST_COUNTED else ''}"
    noun = "page has" if stuck.count == 1 else "pages have"
    doing = "been retrying" if oldest.attempts else "waited to be sent"
    about = [oldest.connector_name, oldest.dedup_key, span(stuck.oldest_age_s)]
    if oldest.answer:
        about.append(oldest.answer)
    return (
        f"rbtk cannot page: {count} {noun} {doing} for over {span(stuck_after_s)} "
        f"(oldest: {', '.join(about)})."
    )


def delivery_log_link(stuck: Stuck) -> str:
    """The delivery log, showing the oldest stuck page's connector and status."""
    shown = {"connector": stuck.oldest.connector_name, "status": stuck.oldest.status}
    return f"{DELIVERY_LOG}?{urlencode(shown)}"


def tell(engine: Engine, snapshots: Snapshots, *, settings: Settings, now: datetime) -> Told:
    """Tell the health channels when pages became stuck, or recovered. Reads only, unless
    that changed."""
    with reads_only(engine).connect() as connection:
        stuck = find(connection, settings=settings, now=now)
        since = connection.execute(select(stuck_notice.c.stuck_since)).scalar()
    if (stuck is None) == (since is None):
        return Told()
    with engine.begin() as connection:
        if stuck is not None:
            changed = update(stuck_notice).where(stuck_notice.c.stuck_since.is_(None))
            changed = changed.values(stuck_since=now)
        else:
            changed = update(stuck_notice).where(stuck_notice.c.stuck_since.is_not(None))
            changed = changed.values(stuck_since=None)
        if not connection.execute(changed).rowcount:
            return Told()  # another instance told them first
        if stuck is not None:
            message = _stuck(stuck, settings=settings, now=now)
            log.error("%s", message.title)
        else:
            assert since is not None
            failed = undelivered.failed_since(connection, since)
            message = _recovered(since, failed, settings=settings, now=now)
            (log.warning if failed else log.info)("%s", message.title)
        channels = [c for c in snapshots.read(connection).chat_channels if c.health]
        if not channels:
            log.warning('no chat channel is marked "rbtk health": nobody was told')
        insert_rows(connection, [messages.chat_row(c, message, now) for c in channels])
    return Told(len(channels), message.event_type)


def _stuck(stuck: Stuck, *, settings: Settings, now: datetime) -> Message:
    oldest = stuck.oldest
    return Message(
        title=f"{summary(stuck, stuck_after_s=settings.stuck_after_s)} See the delivery log.",
        project="rbtk",
        event_type=STUCK,
        event_id=f"rbtk-stuck-{now:%Y%m%dT%H%M%S}",
        occurred_at=format_rfc3339(now),
        fields=[
            ("Stuck pages", f"{stuck.count:,}"),
            ("Oldest", f"{oldest.connector_name}: {oldest.dedup_key}"),
            ("Waiting for", span(stuck.oldest_age_s)),
            ("Last answer", oldest.answer or "not tried yet"),
        ],
        link=settings.public_url.rstrip("/") + delivery_log_link(stuck),
        link_label="Open the delivery log",
    )


def _recovered(since: datetime, failed: int, *, settings: Settings, now: datetime) -> Message:
    """Nothing is stuck any more: because the pages went, or because some gave up. The
    second must not read as good news."""
    told = f"told at {since:%H:%M} UTC"
    if failed:
        more = "+" if failed >= undelivered.MOST_COUNTED else ""
        pages = f"{failed:,}{more} page{'' if failed == 1 else 's'}"
        title = (
            f"rbtk stopped retrying, but {pages} failed for good since {since:%H:%M} UTC: "
            "PagerDuty never got them. See the delivery log."
        )
        link = f"{DELIVERY_LOG}?{urlencode({'status': 'failed'})}"
    else:
        title = f"rbtk can page again: no page is stuck any more ({told})."
        link = DELIVERY_LOG
    return Message(
        title=title,
        project="rbtk",
        event_type=RECOVERED,
        event_id=f"rbtk-recovered-{now:%Y%m%dT%H%M%S}",
        occurred_at=format_rfc3339(now),
        fields=[
            ("Told at", format_rfc3339(since)),
            ("Stuck for", f"over {span((now - since).total_seconds() + settings.stuck_after_s)}"),
        ],
        link=settings.public_url.rstrip("/") + link,
        link_label="Open the delivery log",
    )

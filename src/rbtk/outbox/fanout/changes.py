"""Release change events: each release of a project goes, as a PagerDuty change event, to the
service of every connector that takes the project's pages and has change events on.

A change event never pages anyone; PagerDuty shows it among the recent changes of every later
incident on that service ("warehouse v1.4.0 released from main"), which is what an on-call
wants to see first. Same outbox, retries, rate budget and delivery log as pages (action
`change`), posted to the Change Events API beside the connector's Events API URL. A window
does not hold it back: it is not a page.
"""

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import Connection

from rbtk.channels.pagerduty import change_endpoint
from rbtk.outbox import rows
from rbtk.outbox.rows import OutboxRow, insert_rows
from rbtk.policy import keys
from rbtk.policy.events import Event, ReleasePublished
from rbtk.policy.rules import EVENT_TYPE
from rbtk.routing.pagerduty import Target, route
from rbtk.routing.snapshot import Snapshot
from rbtk.runtime.settings import Settings
from rbtk.runtime.timefmt import format_rfc3339

SOURCE = "roboticks"


def enqueue(
    connection: Connection,
    events: Iterable[Event],
    *,
    settings: Settings,
    now: datetime,
    config: Snapshot,
) -> int:
    """Queue a change event per connector for each release among `events`; answer how many."""
    built = [
        _row(event, event.data, target, settings, now)
        for event in events
        if isinstance(event.data, ReleasePublished)
        for target in taking_pages_of(event.project_slug, config)
        if target.change_events
    ]
    insert_rows(connection, built)
    return len(built)


def taking_pages_of(project: str, config: Snapshot) -> list[Target]:
    """The connectors any of the project's pages would be routed to, in connector order."""
    chosen = {
        target.id: target
        for event_type in sorted(set(EVENT_TYPE.values()))
        for target in route(project, event_type, config.rules, config.targets).targets
    }
    return [chosen[id_] for id_ in sorted(chosen)]


def _row(
    event: Event, release: ReleasePublished, target: Target, settings: Settings, now: datetime
) -> OutboxRow:
    project = event.project_slug
    body = {
        "payload": {
            "summary": f"{project} {release.tag} released from {release.branch}",
            "timestamp": format_rfc3339(event.occurred_at),
            "source": SOURCE,
            "custom_details": {
                "project": project,
                "tag": release.tag,
                "branch": release.branch,
                "event_id": event.id,
            },
        },
        "links": [
            {
                "href": f"{settings.base_url.rstrip('/')}/r/{quote(project, safe='')}",
                "text": "View in Roboticks",
            }
        ],
    }
    return rows.change(
        connector_id=target.id,
        connector_name=target.name,
        routing_key=target.routing_key,
        key_fingerprint=target.key_fingerprint,
        endpoint=change_endpoint(settings.pagerduty_endpoint(target.region)),
        event_id=event.id,
        event_type=event.type,
        project=project,
        dedup_key=keys.release_change(project, release.branch, release.tag),
        body=body,
        now=now,
    )

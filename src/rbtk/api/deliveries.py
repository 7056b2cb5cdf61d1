"""The delivery logs: PagerDuty's (`/api/v1/pagerduty/deliveries`) and the chat channels'
(`/api/v1/notify/deliveries`: Slack, email, webhooks), newest first, paged by id both ways
(`before_id` for older rows, `after_id` for newer), with the total the filters match
(counted up to 10,000: `total_is_lower_bound` says when there are at least that many).
`.../deliveries/{id}` is one row as the log shows it: what a test send's CLI follows until
it is sent or failed."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from rbtk.api.deps import Admin, Ctx
from rbtk.api.errors import ApiError
from rbtk.api.schema import TIMESTAMP, AfterId, BeforeId, RowId, errors
from rbtk.channels import pagerduty, registry
from rbtk.channels.registry import CHAT
from rbtk.outbox.log import delivery_log
from rbtk.outbox.status import PagerDutyAction, Status
from rbtk.runtime.timefmt import parse_rfc3339

router = APIRouter(tags=["deliveries"], responses=errors(400, 401, 403, 422))

MAX_LIMIT = delivery_log.MAX_LIMIT


class DeliveryOut(BaseModel):
    id: int
    channel: str
    created_at: str
    last_attempt_at: str | None
    next_attempt_at: str
    connector: str | None = Field(description="PagerDuty rows: the connector; null otherwise")
    channel_name: str | None = Field(
        description="chat rows (Slack, email, webhook): the channel's name; null otherwise"
    )
    event_id: str | None
    event_type: str | None
    project: str | None
    summary: str | None = Field(description="a trigger's PagerDuty summary")
    dedup_key: str | None
    action: str | None
    severity: str | None
    status: Status
    attempts: int
    http_status: int | None
    message: str | None
    errors: list[str] | None
    latency_ms: float | None
    waiting: "WaitingOut | None" = Field(
        default=None, description="a row still to be sent: what it waits for, and until when"
    )


class WaitingOut(BaseModel):
    reason: Literal[
        "rate budget", "retry backoff", "scheduled", "suppression window", "storm", "digest"
    ]
    until: str | None = Field(
        description="RFC 3339: when it can go (null for a storm: when the storm ends)",
        json_schema_extra=TIMESTAMP,
    )


class DeliveriesOut(BaseModel):
    deliveries: list[DeliveryOut]
    next_before_id: int | None = Field(description="pass as before_id for older rows")
    next_after_id: int | None = Field(description="pass as after_id for newer rows")
    total: int = Field(description="rows the filters match, counted up to 10,000")
    total_is_lower_bound: bool


@router.get("/api/v1/pagerduty/deliveries", dependencies=[Admin], response_model=DeliveriesOut)
def list_deliveries(
    context: Ctx,
    connector: str | None = None,
    status: Status | None = None,
    dedup_key: str | None = None,
    dedup_prefix: Annotated[str | None, Query(description="dedup keys starting so")] = None,
    project: str | None = None,
    action: PagerDutyAction | None = None,
    since: Annotated[
        str | None,
        Query(description="RFC 3339; rows created at or after", json_schema_extra=TIMESTAMP),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    before_id: BeforeId = None,
    after_id: AfterId = None,
) -> dict[str, Any]:
    return _page(
        context,
        (pagerduty.kind,),
        since,
        connector=connector,
        status=status.value if status else None,
        dedup_key=dedup_key,
        dedup_prefix=dedup_prefix,
        project=project,
        action=action.value if action else None,
        limit=limit,
        before_id=before_id,
        after_id=after_id,
    )


@router.get("/api/v1/notify/deliveries", dependencies=[Admin], response_model=DeliveriesOut)
def list_notify_deliveries(
    context: Ctx,
    channel: Annotated[str | None, Query(description="a chat channel's name")] = None,
    kind: Annotated[
        str | None,
        Query(description="a chat channel kind", json_schema_extra={"enum": list(CHAT)}),
    ] = None,
    status: Status | None = None,
    dedup_key: str | None = None,
    dedup_prefix: Annotated[str | None, Query(description="dedup keys starting so")] = None,
    project: str | None = None,
    since: Annotated[
        str | None,
        Query(description="RFC 3339; rows created at or after", json_schema_extra=TIMESTAMP),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    before_id: BeforeId = None,
    after_id: AfterId = None,
) -> dict[str, Any]:
    if kind is not None and kind not in CHAT:
        problem = f"kind: must be one of {', '.join(CHAT)}, got {kind!r}"
        raise ApiError(422, problem, [problem])
    return _page(
        context,
        (kind,) if kind else tuple(CHAT),
        since,
        channel_name=channel,
        status=status.value if status else None,
        dedup_key=dedup_key,
        dedup_prefix=dedup_prefix,
        project=project,
        limit=limit,
        before_id=before_id,
        after_id=after_id,
    )


@router.get(
    "/api/v1/pagerduty/deliveries/{delivery_id}",
    dependencies=[Admin],
    response_model=DeliveryOut,
    responses=errors(404),
)
def show_delivery(delivery_id: RowId, context: Ctx) -> dict[str, Any]:
    return _one(context, delivery_id, (pagerduty.kind,))


@router.get(
    "/api/v1/notify/deliveries/{delivery_id}",
    dependencies=[Admin],
    response_model=DeliveryOut,
    responses=errors(404),
)
def show_notify_delivery(delivery_id: RowId, context: Ctx) -> dict[str, Any]:
    return _one(context, delivery_id, tuple(CHAT))


def _one(context: Ctx, delivery_id: int, channels: tuple[str, ...]) -> dict[str, Any]:
    with context.reads.connect() as connection:
        found = delivery_log.one(
            connection,
            delivery_id,
            channels=channels,
            rates=registry.rates(context.settings),
            now=datetime.now(UTC),
        )
    if found is None:
        raise ApiError(404, f"no delivery with id {delivery_id}")
    return found


def _page(
    context: Ctx, channels: tuple[str, ...], since: str | None, **filters: Any
) -> dict[str, Any]:
    try:
        moment = parse_rfc3339(since) if since is not None else None
    except ValueError as exc:
        raise ApiError(422, f"since: {exc}", [f"since: {exc}"]) from None
    with context.reads.connect() as connection:
        page = delivery_log.query(
            connection,
            channels=channels,
            since=moment,
            count=True,
            rates=registry.rates(context.settings),
            **filters,
        )
    assert page.total is not None
    return {
        "deliveries": page.deliveries,
        "next_before_id": page.next_before_id,
        "next_after_id": page.next_after_id,
        "total": page.total,
        "total_is_lower_bound": page.total >= delivery_log.TOTAL_UP_TO,
    }

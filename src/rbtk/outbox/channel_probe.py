"""Send test message: a message straight to one Slack or email channel, answered once the
channel answered (or the wait ran out)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert

from rbtk.admin.channels import UnknownChannel
from rbtk.channels.message import Message
from rbtk.outbox.queue import await_answer
from rbtk.routing.chat import load_channels, row
from rbtk.runtime.context import Context
from rbtk.runtime.timefmt import format_rfc3339
from rbtk.store.tables import outbox


@dataclass(frozen=True)
class TestMessageOutcome:
    __test__ = False

    channel: str
    delivery_id: int
    status: str
    http_status: int | None
    message: str | None


def send_test_message(
    context: Context, *, channel: str, wait_s: float = 15.0
) -> TestMessageOutcome:
    """Send a test message to one channel now and wait for its answer (blocking)."""
    now = datetime.now(UTC)
    with context.engine.begin() as connection:
        found = next((c for c in load_channels(connection) if c.name == channel), None)
        if found is None:
            raise UnknownChannel(channel)
        message = Message(
            title=f"Roboticks test message from rbtk for channel {channel}",
            project="rbtk",
            event_type="rbtk.test",
            event_id=f"test-{uuid.uuid4().hex[:12]}",
            occurred_at=format_rfc3339(now),
            fields=[("Channel", channel), ("Sent by", "rbtk admin")],
            link=context.settings.base_url,
        )
        test_row = {**row(found, message, now), "priority": -1}
        delivery_id = int(
            connection.execute(insert(outbox).returning(outbox.c.id), [test_row]).scalar_one()
        )
    context.wake_delivery()
    state = await_answer(context.engine, delivery_id, wait_s)
    return TestMessageOutcome(channel, delivery_id, state.status, state.http_status, state.message)

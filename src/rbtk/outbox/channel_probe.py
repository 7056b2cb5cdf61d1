"""Send test message: a message straight to one Slack or email channel, answered once the
channel answered (or the wait ran out)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from rbtk.admin.channels import UnknownChannel
from rbtk.channels.message import Message
from rbtk.outbox.chat import row
from rbtk.outbox.queue import await_answer
from rbtk.outbox.rows import insert_one
from rbtk.routing.chat import load_channels
from rbtk.runtime.context import Context
from rbtk.runtime.timefmt import format_rfc3339


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
        delivery_id = insert_one(connection, row(found, message, now).first_in_line(now))
    context.wake_delivery()
    state = await_answer(context.engine, delivery_id, wait_s)
    return TestMessageOutcome(channel, delivery_id, state.status, state.http_status, state.message)

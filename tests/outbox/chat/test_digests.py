"""Chat digests: past ten messages a minute to one Slack or email channel, the rest go out
as one digest a minute; a webhook channel gets every message."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from rbtk.admin.chat_channels import add_channel, replace_rules
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.intake.scheduler import Scheduler
from rbtk.routing.chat import ChatRule
from rbtk.store.tables import outbox
from tests.factories import event

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)


def channel(context: Context, kind: str, values: dict[str, Any], name: str = "ci") -> None:
    with context.engine.begin() as connection:
        add_channel(
            connection,
            vault=context.vault,
            name=name,
            kind=kind,
            values=values,
            allow_private_webhooks=True,
            by="test",
            now=T0,
        )
        replace_rules(connection, [ChatRule(1, None, None, (name,))], by="test", now=T0)


def pr_failures(numbers: range, at: datetime) -> list[dict[str, Any]]:
    return [
        event(
            f"run-{n}",
            "test_run.completed",
            at,
            run_id=n,
            branch="feature/x",
            default_branch=False,
            pull_request=412,
            status="failed",
            tests=[{"id": "nav/test_pr_only", "status": "failed"}],
        )
        for n in numbers
    ]


def rows(context: Context) -> list[dict[str, Any]]:
    with context.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(outbox).order_by(outbox.c.id))]


def test_past_ten_messages_a_minute_the_rest_go_out_as_one_digest(context: Context) -> None:
    channel(context, "slack", {"webhook_url": "http://127.0.0.1:9/hook"})

    ingest(context, pr_failures(range(25), T0), T0)
    Scheduler(context).fire_due(T0 + timedelta(seconds=59))
    held = [r for r in rows(context) if r["status"] == "suppressed"]
    Scheduler(context).fire_due(T0 + timedelta(seconds=60))

    queued = [r for r in rows(context) if r["status"] == "queued"]
    assert [r["event_id"] for r in queued] == [f"run-{n}" for n in range(10)] + ["digest-1"]
    assert [r["event_id"] for r in held] == [f"run-{n}" for n in range(10, 25)]
    assert {r["message"] for r in held} == {
        "in digest #1 for ci: a burst of messages goes out as one, at 02:01:00 UTC"
    }
    digest = queued[-1]["body"]
    assert digest["text"] == "15 messages since 02:00 UTC, in one digest (warehouse)"
    first = [
        f"*{i}.*\nTest run {n} failed on PR #412 (1 failing)"
        for i, n in enumerate(range(10, 14), 1)
    ]
    assert [f["text"] for f in digest["blocks"][1]["fields"]] == [
        "*test_run.completed*\n15",
        *first,
    ]


def test_a_burst_that_goes_on_gets_one_digest_a_minute(context: Context) -> None:
    channel(context, "slack", {"webhook_url": "http://127.0.0.1:9/hook"})

    ingest(context, pr_failures(range(25), T0), T0)
    half_a_minute = T0 + timedelta(seconds=30)
    ingest(context, pr_failures(range(25, 35), half_a_minute), half_a_minute)
    Scheduler(context).fire_due(T0 + timedelta(seconds=60))
    later = T0 + timedelta(seconds=70)
    ingest(context, pr_failures(range(35, 50), later), later)
    Scheduler(context).fire_due(later + timedelta(seconds=60))

    sent = [r for r in rows(context) if r["status"] == "queued"]
    assert len(sent) == 12  # ten messages, then one digest a minute
    digests = [r["body"]["text"] for r in sent if r["event_id"].startswith("digest-")]
    assert digests == [
        "25 messages since 02:00 UTC, in one digest (warehouse)",
        "15 messages since 02:01 UTC, in one digest (warehouse)",
    ]


def test_a_webhook_channel_gets_every_message(context: Context) -> None:
    channel(context, "webhook", {"url": "http://127.0.0.1:9/hook", "signing_secret": "s" * 32})

    ingest(context, pr_failures(range(25), T0), T0)

    assert [r["status"] for r in rows(context)] == ["queued"] * 25


def test_digests_are_off_with_a_threshold_of_zero(context: Context) -> None:
    context.settings = context.settings.model_copy(update={"chat_digest_after": 0})
    channel(context, "slack", {"webhook_url": "http://127.0.0.1:9/hook"})

    ingest(context, pr_failures(range(25), T0), T0)

    assert [r["status"] for r in rows(context)] == ["queued"] * 25

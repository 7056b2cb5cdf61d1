"""Slack and email for everything that does not page, through real local peers."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from rbtk.admin.chat_channels import add_channel, replace_rules
from rbtk.admin.connector_settings import Storm
from rbtk.admin.probes import send_test_message
from rbtk.app import create_app
from rbtk.channels import slack
from rbtk.context import Context
from rbtk.emulator import EmulatorConfig, running_emulator
from rbtk.intake.ingest import ingest
from rbtk.routing import ordered_rules
from rbtk.routing.chat import ChatRule, load_rules
from rbtk.store.tables import notify_channels, outbox
from tests.factories import add_connector, event, pool_offline
from tests.live import serving
from tests.receivers import (
    Mailbox,
    Webhook,
    signed_webhook_receiver,
    smtp_server,
    webhook_receiver,
)
from tests.waiting import wait_for


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook_receiver() as hook:
        yield hook


@pytest.fixture
def mailbox(context: Context) -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        context.settings = context.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": mailbox.port, "smtp_from": "rbtk@test"}
        )
        yield mailbox


def add_slack(context: Context, url: str, name: str = "ci-slack") -> None:
    add(context, name, "slack", {"webhook_url": url})


def add_email(context: Context, recipients: list[str], name: str = "ci-mail") -> None:
    add(context, name, "email", {"recipients": recipients})


def add(context: Context, name: str, kind: str, values: dict[str, Any]) -> None:
    """Through the one write path, as the API and the pages add channels (loopback allowed)."""
    with context.engine.begin() as connection:
        add_channel(
            connection,
            vault=context.vault,
            name=name,
            kind=kind,
            values=values,
            allow_private_webhooks=True,
            by="test",
            now=now(),
        )


def add_rule(
    context: Context,
    position: int,
    channels: list[str],
    *,
    project: str | None = None,
    event_type: str | None = None,
) -> None:
    """Insert a rule at `position`, saving the whole list as the API and the pages do."""
    rule = ChatRule(position, project, event_type, tuple(channels))
    with context.engine.begin() as connection:
        rules = ordered_rules.inserted(load_rules(connection), rule, position=position)
        replace_rules(connection, rules, by="test", now=now())


def log(context: Context) -> list[dict[str, Any]]:
    with context.engine.connect() as connection:
        rows = connection.execute(select(outbox).order_by(outbox.c.id))
        return [dict(r._mapping) for r in rows]


def pr_failure(event_id: str = "run-pr", run_id: int = 882) -> dict[str, Any]:
    return event(
        event_id,
        "test_run.completed",
        now(),
        run_id=run_id,
        branch="feature/x",
        default_branch=False,
        pull_request=412,
        status="failed",
        tests=[{"id": "nav/test_pr_only", "status": "failed"}],
    )


def test_a_pr_failure_lands_in_slack_and_never_in_pagerduty(
    context: Context, service: str, emulator: str, hook: Webhook
) -> None:
    add_connector(context, now=now())
    add_slack(context, hook.url)
    add_rule(context, 1, ["ci-slack"], project="ware*")

    ingest(context, [pr_failure()], now())

    wait_for(lambda: hook.received, what="the Slack message")
    message = hook.received[0]
    assert message["text"] == "Test run 882 failed on PR #412 (1 failing) (warehouse)"
    assert message["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Test run 882 failed on PR #412 (1 failing)"},
    }
    assert {"type": "mrkdwn", "text": "*Project*\nwarehouse"} in message["blocks"][1]["fields"]
    assert message["blocks"][3]["elements"][0]["url"] == "https://roboticks.test/r/warehouse"
    rows = wait_for(lambda: log(context)[0]["status"] == "sent" and log(context))
    assert [(r["channel"], r["status"]) for r in rows] == [("slack", "sent")]


def test_a_paging_event_does_not_also_go_to_slack(
    context: Context, service: str, hook: Webhook
) -> None:
    add_connector(context, now=now())
    add_slack(context, hook.url)
    add_rule(context, 1, ["ci-slack"])

    ingest(context, [pool_offline("e1", now() - timedelta(hours=2))], now())

    assert [r["channel"] for r in log(context)] == ["pagerduty"]


def test_a_404_from_slack_is_a_permanent_failure(
    context: Context, service: str, hook: Webhook
) -> None:
    add_slack(context, hook.url)
    add_rule(context, 1, ["ci-slack"])
    hook.answers[:] = [404]

    ingest(context, [pr_failure()], now())

    row = wait_for(lambda: log(context)[0]["status"] == "failed" and log(context)[0])
    assert (row["http_status"], row["message"], row["attempts"]) == (404, "no_service", 1)


def test_a_500_from_slack_is_retried_until_it_is_delivered(
    context: Context, service: str, hook: Webhook
) -> None:
    add_slack(context, hook.url)
    add_rule(context, 1, ["ci-slack"])
    hook.answers[:] = [500, 500]

    ingest(context, [pr_failure()], now())

    row = wait_for(lambda: log(context)[0]["status"] == "sent" and log(context)[0])
    assert row["attempts"] == 3
    assert len(hook.received) == 1


def test_the_webhook_url_is_never_stored_or_logged_in_clear(
    context: Context, service: str, hook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    add_slack(context, hook.url)
    add_rule(context, 1, ["ci-slack"])

    ingest(context, [pr_failure()], now())
    wait_for(lambda: hook.received)

    dump = repr(log(context))
    with context.engine.connect() as connection:
        dump += repr(connection.execute(select(notify_channels)).all())
    assert "XXXXSECRETXXXX" not in dump + caplog.text


def test_an_email_arrives_with_subject_recipients_and_both_bodies(
    context: Context, service: str, mailbox: Mailbox
) -> None:
    add_email(context, ["ops@example.test", "qa@example.test"])
    add_rule(context, 1, ["ci-mail"], event_type="test_run.*")

    ingest(context, [pr_failure()], now())

    recipients, mail = wait_for(lambda: mailbox.inbox.messages, what="the email")[0]
    assert recipients == ["ops@example.test", "qa@example.test"]
    assert mail["Subject"] == "[Roboticks] Test run 882 failed on PR #412 (1 failing) — warehouse"
    assert mail["From"] == "rbtk@test"
    parts = {part.get_content_type(): part.get_payload(decode=True) for part in mail.walk()}
    assert b"Test run 882 failed on PR #412" in parts["text/plain"]
    assert b"<h2>Test run 882 failed on PR #412 (1 failing)</h2>" in parts["text/html"]
    assert wait_for(lambda: log(context)[0]["status"] == "sent")


def test_an_smtp_4xx_reply_is_retried_and_a_5xx_reply_is_permanent(
    context: Context, service: str, mailbox: Mailbox
) -> None:
    add_email(context, ["ops@example.test"])
    add_rule(context, 1, ["ci-mail"])
    mailbox.inbox.reply = "451 Try again later"

    ingest(context, [pr_failure("r1")], now())
    retrying = wait_for(lambda: log(context)[0]["status"] == "retrying" and log(context)[0])
    mailbox.inbox.reply = "554 Transaction failed"
    failed = wait_for(lambda: log(context)[0]["status"] == "failed" and log(context)[0])

    assert retrying["message"] == "SMTP 451 Try again later"
    assert failed["message"] == "SMTP 554 Transaction failed"


def test_a_channel_test_message_is_sent_and_answered(
    context: Context, service: str, hook: Webhook
) -> None:
    add_slack(context, hook.url)

    outcome = send_test_message(context, channel="ci-slack")

    assert (outcome.status, outcome.http_status) == ("sent", 200)
    assert hook.received[0]["blocks"][0]["text"]["text"] == (
        "Roboticks test message from rbtk for channel ci-slack"
    )


@pytest.fixture
def public_webhooks_only(context: Context) -> None:
    """The production default, set before the service starts: webhooks reach public hosts."""
    context.settings = context.settings.model_copy(update={"allow_private_webhooks": False})


def test_a_webhook_that_now_resolves_to_an_internal_address_is_refused_when_sent(
    context: Context, public_webhooks_only: None, service: str, hook: Webhook
) -> None:
    # Stored as if its name had resolved to a public address when it was added.
    add_slack(context, hook.url.replace("127.0.0.1", "localhost"))

    outcome = send_test_message(context, channel="ci-slack")

    assert (outcome.status, outcome.http_status, outcome.message) == (
        "failed",
        None,
        "refused to connect: localhost resolves to 127.0.0.1, a loopback address; webhooks "
        "may only reach public addresses (set RBTK_ALLOW_PRIVATE_WEBHOOKS=1 to allow internal "
        "addresses)",
    )
    assert hook.received == []
    assert log(context)[0]["attempts"] == 1


def test_a_test_message_never_echoes_what_a_receiver_that_is_not_slack_answered(
    context: Context, service: str, hook: Webhook
) -> None:
    add_slack(context, hook.url)
    hook.answers[:] = [403]
    hook.body = "db_password=hunter2\nadmin_token=s3cr3t"

    outcome = send_test_message(context, channel="ci-slack")

    assert (outcome.status, outcome.http_status, outcome.message) == (
        "failed",
        403,
        "Slack refused the message (403)",
    )
    assert "hunter2" not in repr(log(context))


SIGNING_SECRET = "whsec-0123456789abcdef"


def test_a_webhook_channel_posts_the_documented_body_signed_for_its_receiver(
    context: Context, service: str
) -> None:
    with signed_webhook_receiver(SIGNING_SECRET) as receiver:
        add(context, "ci-hook", "webhook", {"url": receiver.url, "signing_secret": SIGNING_SECRET})
        add_rule(context, 1, ["ci-hook"])

        ingest(context, [pr_failure()], now())

        wait_for(lambda: receiver.received, what="the signed webhook")
    assert receiver.refused == []
    body = receiver.received[0]
    assert (body["version"], body["event"]["id"], body["event"]["project"]) == (
        1,
        "run-pr",
        "warehouse",
    )
    rows = wait_for(lambda: log(context)[0]["status"] == "sent" and log(context))
    assert [(r["channel"], r["endpoint"], r["http_status"]) for r in rows] == [
        ("webhook", receiver.url, 204)
    ]
    assert SIGNING_SECRET.encode() not in rows[0]["destination"]


def test_a_wrong_signing_secret_is_refused_by_the_receiver_and_not_retried(
    context: Context, service: str
) -> None:
    with signed_webhook_receiver("the-receivers-own-secret") as receiver:
        add(context, "ci-hook", "webhook", {"url": receiver.url, "signing_secret": SIGNING_SECRET})
        add_rule(context, 1, ["ci-hook"])

        ingest(context, [pr_failure()], now())

        row = wait_for(lambda: log(context)[0]["status"] == "failed" and log(context)[0])
    assert receiver.refused == ["bad signature"]
    assert (row["http_status"], row["message"]) == (
        401,
        "the webhook refused the message (401)",
    )


def test_a_pagerduty_key_out_of_budget_never_holds_back_an_email(
    context: Context, mailbox: Mailbox, emulator: str
) -> None:
    """Each channel has its own budget: PagerDuty's (one a minute here) neither holds back
    nor throttles email, which has none of its own (it once shared PagerDuty's)."""
    context.settings = context.settings.model_copy(
        update={"pagerduty_rate_per_min": 1, "pagerduty_url": f"{emulator}/v2/enqueue"}
    )
    add_connector(context, now=now())
    add_email(context, ["ops@example.com"])
    add_rule(context, 1, ["ci-mail"])
    pools = [f"pool-{i}" for i in range(5)]
    ingest(context, [pool_offline(f"off-{p}", now() - timedelta(hours=2), p) for p in pools], now())

    with serving(create_app(context)):
        wait_for(lambda: any(r["status"] == "sent" for r in log(context)), what="one page")
        ingest(context, [pr_failure(f"run-pr-{i}") for i in range(3)], now())
        wait_for(lambda: len(mailbox.inbox.messages) == 3, timeout_s=5, what="all three emails")

    pages = [r for r in log(context) if r["channel"] == "pagerduty"]
    assert [r["status"] for r in pages].count("sent") == 1  # the rest wait for the budget


def throttled(pagerduty: str) -> int:
    """How many events the emulator refused with a 429 for being over the key's rate."""
    requests = httpx.get(f"{pagerduty}/_inspect/requests").json()["requests"]
    return sum(r["outcome"] == "throttled" for r in requests)


def test_a_pagerduty_key_answered_429_and_out_of_budget_never_holds_back_an_email(
    context: Context, mailbox: Mailbox
) -> None:
    """PagerDuty takes two events of the key and answers the rest 429 (no Retry-After, so
    they are retried); rbtk's own budget for the key (five a minute here) is spent too and
    holds the rest back. Email waits for neither."""
    with running_emulator(EmulatorConfig(rate_limit=2)) as pagerduty:
        context.settings = context.settings.model_copy(
            update={"pagerduty_url": f"{pagerduty}/v2/enqueue", "pagerduty_rate_per_min": 5}
        )
        add_connector(context, now=now())
        add_email(context, ["ops@example.com"])
        add_rule(context, 1, ["ci-mail"])
        stale = now() - timedelta(hours=2)
        ingest(context, [pool_offline(f"off-{i}", stale, f"pool-{i}") for i in range(10)], now())

        with serving(create_app(context)):
            wait_for(lambda: throttled(pagerduty), what="PagerDuty refusing the key")
            ingest(context, [pr_failure(f"run-pr-{i}", run_id=i) for i in range(3)], now())
            wait_for(lambda: len(mailbox.inbox.messages) == 3, timeout_s=5, what="all 3 emails")

        pages = [r for r in log(context) if r["channel"] == "pagerduty"]
    assert sorted((r["status"], r["http_status"] or 0) for r in pages) == [
        *[("queued", 0)] * 5,  # never tried: the budget holds them back
        *[("retrying", 429)] * 3,
        *[("sent", 202)] * 2,
    ]
    assert sorted(m["Subject"].split(" — ")[0] for _, m in mailbox.inbox.messages) == [
        f"[Roboticks] Test run {i} failed on PR #412 (1 failing)" for i in range(3)
    ]


PAGES_PER_S = 20
LOAD_S = 8
PAGES = PAGES_PER_S * LOAD_S  # beyond the key's budget: rbtk sends it 120 a minute
PAGERDUTY_TAKES = 60  # a minute, of this key: the emulator answers 429 to the rest
SLACK_EVERY = 10  # pages: a Slack message every half second, within Slack's own 1/s
SLACK_LIMIT_S = 60 / slack.LIMITS.rate_per_min  # one message a second per webhook
ALLOWANCE_S = 3.0  # a loaded machine; waiting for the key's budget would take a minute


def test_twenty_pages_a_second_on_one_key_never_delay_a_slack_message_past_its_own_limit(
    context: Context, hook: Webhook
) -> None:
    """Pages for one integration key arrive at 20 a second: PagerDuty answers 429 once the
    key is over its rate, and rbtk's own budget for the key (120 a minute) is spent, so pages
    queue for a minute or more. Slack messages enqueued meanwhile, each within Slack's own
    pace, go out at once, ahead of the older pages."""
    with running_emulator(EmulatorConfig(rate_limit=PAGERDUTY_TAKES)) as pagerduty:
        context.settings = context.settings.model_copy(
            update={
                "pagerduty_url": f"{pagerduty}/v2/enqueue",
                # A backlog larger than one claim: waiting pages must not crowd Slack out.
                "delivery_batch": 20,
                # Every message on its own: this is about Slack's pace, not its digests.
                "chat_digest_after": 0,
            }
        )
        # Every page is sent on its own here: storm collapse would hold most of them.
        add_connector(context, storm=Storm(collapse=False), now=now())
        add_slack(context, hook.url)
        add_rule(context, 1, ["ci-slack"])
        stale = now() - timedelta(hours=2)
        enqueued: dict[str, float] = {}  # each Slack message's text: when it was stored

        with serving(create_app(context)):
            start = time.monotonic()
            for i in range(PAGES):
                time.sleep(max(0.0, start + i / PAGES_PER_S - time.monotonic()))
                ingest(context, [pool_offline(f"off-{i}", stale, f"pool-{i}")], now())
                if i % SLACK_EVERY == SLACK_EVERY // 2:
                    run = i // SLACK_EVERY
                    ingest(context, [pr_failure(f"run-pr-{run}", run_id=run)], now())
                    enqueued[f"Test run {run} failed on PR #412 (1 failing) (warehouse)"] = (
                        time.monotonic()
                    )
            wait_for(
                lambda: len(hook.received) >= len(enqueued),
                timeout_s=SLACK_LIMIT_S + ALLOWANCE_S,
                what="every Slack message",
            )
            refused = throttled(pagerduty)
            rows = log(context)

    arrived = {m["text"]: at for m, at in zip(hook.received, hook.arrived_at, strict=True)}
    late = {
        text: round(arrived[text] - at, 2) if text in arrived else None
        for text, at in enqueued.items()
        if text not in arrived or arrived[text] - at > SLACK_LIMIT_S + ALLOWANCE_S
    }
    assert late == {}
    assert [m["text"] for m in hook.received] == list(enqueued)
    assert {r["status"] for r in rows if r["channel"] == "slack"} == {"sent"}
    # The load did what it was meant to: PagerDuty refused the key, and the budget left
    # pages never tried, older than the Slack messages that went out ahead of them.
    pages = [r for r in rows if r["channel"] == "pagerduty"]
    assert refused > 0
    assert [r["status"] for r in pages].count("sent") == PAGERDUTY_TAKES
    untried = [r["id"] for r in pages if r["attempts"] == 0]
    assert len(untried) >= PAGES - 120
    ahead = [r for r in rows if r["channel"] == "slack" and r["id"] > min(untried)]
    assert len(ahead) >= 3

"""A pager that cannot page is not silent: pages undelivered past RBTK_STUCK_AFTER_S are told
once to the chat channels marked "rbtk health" (and to no other), and so is their recovery."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rbtk.admin.chat_channels import add_channel, replace_rules
from rbtk.context import Context
from rbtk.intake.ingest import ingest
from rbtk.outbox.log import stuck
from rbtk.routing.chat import ChatRule
from rbtk.store.tables import outbox
from tests.factories import add_connector, evidence, send_everything

T0 = datetime(2026, 5, 25, 2, 0, tzinfo=UTC)


def tell(context: Context, *, now: datetime) -> stuck.Told:
    return stuck.tell(context.engine, context.snapshots, settings=context.settings, now=now)


def channels(context: Context) -> None:
    """One channel marked rbtk health, one that chat rules send everything to."""
    with context.engine.begin() as connection:
        for name, recipients, health in [
            ("rbtk-ops", ["oncall@example.com"], True),
            ("team-mail", ["team@example.com"], False),
        ]:
            add_channel(
                connection,
                vault=context.vault,
                name=name,
                kind="email",
                values={"recipients": recipients},
                allow_private_webhooks=True,
                by="test",
                now=T0,
                health=health,
            )
        replace_rules(connection, [ChatRule(1, None, None, ("team-mail",))], by="test", now=T0)


def told(context: Context) -> list[tuple[str | None, str | None, str]]:
    """Chat messages queued: to which channel, about what, and their subject."""
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.channel_name, outbox.c.event_type, outbox.c.body)
            .where(outbox.c.channel_name.is_not(None))
            .order_by(outbox.c.id)
        )
        return [(r.channel_name, r.event_type, r.body["subject"]) for r in rows]


def test_a_stuck_page_is_told_once_to_health_channels_then_its_recovery(
    context: Context,
) -> None:
    add_connector(context, now=T0)
    channels(context)
    # A critical trigger, never sent: PagerDuty is down.
    ingest(context, [evidence("e1", T0, "v1")], T0)

    early = tell(context, now=T0 + timedelta(minutes=4))
    first = tell(context, now=T0 + timedelta(minutes=6))
    again = tell(context, now=T0 + timedelta(minutes=7))
    send_everything(context, T0 + timedelta(minutes=8))
    recovered = tell(context, now=T0 + timedelta(minutes=9))
    quiet = tell(context, now=T0 + timedelta(minutes=10))

    assert [(t.queued, t.event_type) for t in (early, first, again, recovered, quiet)] == [
        (0, None),
        (1, stuck.STUCK),
        (0, None),
        (1, stuck.RECOVERED),
        (0, None),
    ]
    assert told(context) == [
        (
            "rbtk-ops",
            stuck.STUCK,
            "[Roboticks] rbtk cannot page: 1 page has waited to be sent for over 5 min "
            "(oldest: pd-production, rbtk:evidence-fail:warehouse:v1, 6 min). See the delivery "
            "log. — rbtk",
        ),
        (
            "rbtk-ops",
            stuck.RECOVERED,
            "[Roboticks] rbtk can page again: no page is stuck any more (told at 02:06 UTC). "
            "— rbtk",
        ),
    ]


def test_pages_that_gave_up_are_not_told_as_a_recovery(context: Context) -> None:
    add_connector(context, now=T0)
    channels(context)
    ingest(context, [evidence("e1", T0, "v1")], T0)
    tell(context, now=T0 + timedelta(minutes=6))
    with context.engine.begin() as connection:  # retried until it gave up, PagerDuty down
        connection.execute(
            outbox.update()
            .where(outbox.c.connector_name.is_not(None))
            .values(status="failed", attempts=9, last_attempt_at=T0 + timedelta(minutes=8))
        )

    after = tell(context, now=T0 + timedelta(minutes=9))

    assert after.event_type == stuck.RECOVERED
    assert told(context)[-1][2] == (
        "[Roboticks] rbtk stopped retrying, but 1 page failed for good since 02:06 UTC: "
        "PagerDuty never got them. See the delivery log. — rbtk"
    )


def test_a_new_episode_is_told_again_after_a_recovery(context: Context) -> None:
    add_connector(context, now=T0)
    channels(context)
    ingest(context, [evidence("e1", T0, "v1")], T0)
    tell(context, now=T0 + timedelta(minutes=6))
    send_everything(context, T0 + timedelta(minutes=7))
    tell(context, now=T0 + timedelta(minutes=8))
    later = T0 + timedelta(hours=1)
    ingest(context, [evidence("e2", later, "v2"), evidence("e3", later, "v3")], later)

    second = tell(context, now=later + timedelta(minutes=6))

    assert (second.queued, second.event_type) == (1, stuck.STUCK)
    assert [e for _, e, _ in told(context)] == [stuck.STUCK, stuck.RECOVERED, stuck.STUCK]
    assert "2 pages have waited to be sent for over 5 min" in told(context)[-1][2]


def test_what_is_stuck_names_the_answer_pagerduty_gave(context: Context) -> None:
    add_connector(context, now=T0)
    ingest(context, [evidence("e1", T0, "v1")], T0)
    with context.engine.begin() as connection:
        connection.execute(
            outbox.update().values(
                status="retrying", attempts=4, http_status=500, message="Internal Server Error"
            )
        )

    with context.engine.connect() as connection:
        found = stuck.find(connection, settings=context.settings, now=T0 + timedelta(minutes=7))

    assert found is not None
    assert stuck.summary(found, stuck_after_s=300) == (
        "rbtk cannot page: 1 page has been retrying for over 5 min (oldest: pd-production, "
        "rbtk:evidence-fail:warehouse:v1, 7 min, HTTP 500 Internal Server Error)."
    )
    assert stuck.delivery_log_link(found) == (
        "/settings/integrations/pagerduty/deliveries?connector=pd-production&status=retrying"
    )


def test_with_no_health_channel_nothing_is_queued_but_the_episode_is_kept(
    context: Context,
) -> None:
    add_connector(context, now=T0)
    ingest(context, [evidence("e1", T0, "v1")], T0)

    first = tell(context, now=T0 + timedelta(minutes=6))
    again = tell(context, now=T0 + timedelta(minutes=7))

    assert (first.event_type, first.queued, again.event_type) == (stuck.STUCK, 0, None)
    assert told(context) == []

"""Per-endpoint backoff: a failing endpoint is probed at growing, capped intervals."""

import itertools

from rbtk.channels.base import Endpoint
from rbtk.delivery.outages import Outages

PD = Endpoint("pagerduty", "https://events.pagerduty.com/v2/enqueue")
SLACK = Endpoint("slack", "slack", "slack:1")


def test_a_failing_endpoint_is_probed_at_intervals_that_grow_to_five_seconds() -> None:
    outages = Outages()
    outages.failed(PD, now=100.0)

    probes = []
    for tick in range(0, 600):
        now = 100.0 + tick / 10
        if outages.probes_due(now):
            probes.append(round(now - 100.0, 1))

    assert probes[:5] == [0.5, 1.5, 3.5, 7.5, 12.5]
    gaps = [b - a for a, b in itertools.pairwise(probes)]
    assert max(gaps) <= 5.0 and gaps[-1] == 5.0
    assert outages.failing() == [PD]


def test_more_failures_during_an_outage_do_not_postpone_the_probe() -> None:
    outages = Outages()
    assert outages.failed(PD, now=0.0) is True  # an outage starts
    assert outages.failed(PD, now=0.4) is False

    assert outages.probes_due(0.5) == [PD]


def test_an_answer_ends_the_outage_and_says_rows_are_waiting_for_it() -> None:
    outages = Outages()
    assert outages.succeeded(PD, now=0.0) is True  # first word from it since start: rows may wait
    assert outages.succeeded(PD, now=0.0) is False  # healthy and known: nothing to wake

    outages.failed(PD, now=0.0)
    outages.failed(SLACK, now=0.0)
    assert outages.succeeded(PD, now=0.0) is True

    assert outages.failing() == [SLACK]
    assert outages.probes_due(10.0) == [SLACK]
    assert outages.next_probe_in(10.0) == 1.0


def test_no_outage_means_no_probe_to_wait_for() -> None:
    assert Outages().next_probe_in(0.0) is None


def test_a_request_that_started_before_the_last_answer_does_not_start_an_outage() -> None:
    outages = Outages()
    outages.failed(PD, now=0.0)
    outages.succeeded(PD, now=12.0)  # the endpoint is back

    # a probe sent at 8 s into a hung endpoint times out at 18 s: old news
    assert outages.failed(PD, now=18.0, sent_at=8.0) is False
    assert outages.failing() == []
    assert outages.failed(PD, now=19.0, sent_at=13.0) is True

"""What PagerDuty's answers mean for the row and for the endpoint."""

import pytest

from rbtk.channels import pagerduty
from rbtk.channels.base import Verdict


@pytest.mark.parametrize("status", [408, 500, 502, 503])
def test_a_5xx_or_408_says_the_endpoint_is_down(status: int) -> None:
    result = pagerduty.classify(status, {}, b"")
    assert (result.verdict, result.endpoint_down) == (Verdict.RETRY, True)


@pytest.mark.parametrize(("status", "verdict"), [(429, Verdict.RETRY), (400, Verdict.FAILED)])
def test_a_429_or_400_is_about_one_event_not_the_endpoint(status: int, verdict: Verdict) -> None:
    result = pagerduty.classify(status, {"Retry-After": "5"}, b"")
    assert (result.verdict, result.endpoint_down) == (verdict, False)

"""Settings that cannot work together are refused at start-up, with what to change."""

import pytest
from pydantic import ValidationError

from rbtk.settings import Settings


def test_the_delivery_lease_defaults_to_fifteen_seconds() -> None:
    assert Settings().delivery_lease_s == 15.0


def test_a_lease_shorter_than_one_and_a_half_requests_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"RBTK_DELIVERY_LEASE_S must be at least 1\.5"):
        Settings(delivery_lease_s=20.0, pagerduty_timeout_s=15.0)

    assert Settings(delivery_lease_s=45.0, pagerduty_timeout_s=30.0).delivery_lease_s == 45.0

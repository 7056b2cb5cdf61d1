"""Settings that cannot work together are refused at start-up, with what to change."""

import pytest

from rbtk.channels.registry import check_lease
from rbtk.runtime.settings import Settings


def test_the_delivery_lease_defaults_to_fifteen_seconds() -> None:
    assert Settings().delivery_lease_s == 15.0


def test_a_lease_shorter_than_one_and_a_half_requests_is_refused() -> None:
    with pytest.raises(ValueError, match=r"RBTK_DELIVERY_LEASE_S must be at least 1\.5"):
        check_lease(Settings(delivery_lease_s=20.0, pagerduty_timeout_s=15.0))

    check_lease(Settings(delivery_lease_s=45.0, pagerduty_timeout_s=30.0))


def test_the_lease_covers_the_slowest_channel_not_only_pagerduty() -> None:
    slow_slack = {"slack": {"timeout_s": 20.0}}

    with pytest.raises(ValueError, match=r"slowest channel's timeout \(slack: 20 s\)"):
        check_lease(Settings(delivery_lease_s=15.0, channel_limits=slow_slack))
    check_lease(Settings(delivery_lease_s=30.0, channel_limits=slow_slack))


def test_channel_limits_come_from_the_environment_as_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RBTK_CHANNEL_LIMITS", '{"webhook": {"rate_per_min": 30}}')
    from rbtk.channels import webhook

    limits = webhook.limits(Settings())

    assert (limits.rate_per_min, limits.timeout_s) == (30, webhook.LIMITS.timeout_s)


def test_stopping_waits_for_the_slowest_channels_send_not_only_pagerduty() -> None:
    from rbtk.channels import registry

    slow_email = Settings(delivery_lease_s=45.0, channel_limits={"email": {"timeout_s": 25.0}})

    assert registry.slowest(slow_email) == ("email", 25.0)
    assert registry.drain_s(slow_email) == 30.0

"""How the pages describe the paging rules, with this instance's thresholds."""

import pytest

from rbtk.policy.rules import Rule
from rbtk.runtime.settings import Settings
from rbtk.web.labels import rule_labels


@pytest.mark.parametrize(
    ("airgapped_minutes", "any_pool_minutes", "airgapped", "any_pool"),
    [
        pytest.param(15, 60, "15 min", "60 min", id="production's, as they always read"),
        pytest.param(0.166667, 0.5, "10 s", "30 s", id="rbtk demo's, in seconds"),
        pytest.param(1.5, 7.5, "1 min 30 s", "7 min 30 s", id="part minutes, never decimals"),
    ],
)
def test_pool_rules_say_their_thresholds_as_people_read_them(
    airgapped_minutes: float, any_pool_minutes: float, airgapped: str, any_pool: str
) -> None:
    settings = Settings(
        airgapped_offline_minutes=airgapped_minutes, pool_offline_minutes=any_pool_minutes
    )

    conditions = {label.rule: label.condition for label in rule_labels(settings)}

    assert conditions[Rule.AIRGAPPED_POOL_OFFLINE] == f"air-gapped, offline more than {airgapped}"
    assert conditions[Rule.POOL_OFFLINE] == f"offline more than {any_pool}"

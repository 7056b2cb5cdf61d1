"""The audit log as the admin services write it: in the transaction of the change."""

from datetime import UTC, datetime

import pytest

from rbtk.admin import audit, connectors
from rbtk.context import Context
from tests.factories import KEY, add_connector

NOW = datetime(2026, 5, 25, 3, 0, tzinfo=UTC)


class Abandoned(Exception):
    pass


def entries(context: Context, action: str | None = None) -> list[tuple[str, str, str]]:
    with context.engine.connect() as connection:
        page = audit.list_entries(connection, action=action)
    return [(e.actor, e.action, e.target) for e in page.entries]


def test_a_change_rolled_back_with_its_transaction_leaves_no_entry(context: Context) -> None:
    add_connector(context, now=NOW)

    with pytest.raises(Abandoned), context.engine.begin() as connection:
        connectors.update(
            connection,
            vault=context.vault,
            name="pd-production",
            changes={"region": "eu"},
            by="ops",
            now=NOW,
        )
        raise Abandoned()

    assert entries(context) == [("test", "connector.add", "pd-production")]


def test_an_action_filter_matches_a_whole_family_never_a_prefix_of_a_word(
    context: Context,
) -> None:
    add_connector(context, now=NOW)
    with context.engine.begin() as connection:
        connectors.update(
            connection, vault=context.vault, name="pd-production", key=KEY[::-1], by="ops", now=NOW
        )

    assert entries(context, action="connector") == [
        ("ops", "connector.update", "pd-production"),
        ("test", "connector.add", "pd-production"),
    ]
    assert entries(context, action="connector.up") == []
    assert entries(context, action="connect") == []

"""`rbtk admin notify channels add --health` and `update NAME --health|--no-health`: a channel
marked "rbtk health" is told when rbtk cannot page. On SQLite and PostgreSQL: the mark is a
column of its own, written by a command of its own."""

import httpx
import pytest

from tests.cli.admin.notify.test_channels import channels
from tests.cli.conftest import Rbtk, shown

pytestmark = pytest.mark.both_databases


def test_add_with_health_marks_the_channel_rbtk_health(rbtk: Rbtk, api: httpx.Client) -> None:
    result = rbtk(
        "admin", "notify", "channels", "add", "rbtk-ops", "--email", "oncall@example.com",
        "--health",
    )  # fmt: skip

    [channel] = channels(api)
    assert (result.exit_code, result.stderr, channel["health"]) == (0, "", True)
    assert result.stdout == (
        "added channel rbtk-ops\n"
        "name:     rbtk-ops\n"
        "kind:     email\n"
        "sends to: oncall@example.com\n"
        "rules:    none\n"
        "health:   rbtk health: told when rbtk cannot page\n"
        f"created:  {shown(str(channel['created_at']))}\n"
    )
    listed = rbtk("admin", "notify", "channels", "list")
    assert listed.stdout == (
        "NAME      KIND   SENDS TO            RULES  HEALTH\n"
        "rbtk-ops  email  oncall@example.com  none   yes\n"
    )


def test_update_marks_and_unmarks_a_channel_rbtk_health(rbtk: Rbtk, api: httpx.Client) -> None:
    rbtk("admin", "notify", "channels", "add", "ops-mail", "--email", "ops@example.com")

    marked = rbtk("admin", "notify", "channels", "update", "ops-mail", "--health")
    after_marking = [c["health"] for c in channels(api)]
    unmarked = rbtk("admin", "notify", "channels", "update", "ops-mail", "--no-health")

    assert (marked.exit_code, marked.stderr, after_marking) == (0, "", [True])
    assert marked.stdout.splitlines()[0] == "updated channel ops-mail"
    assert "health:   rbtk health: told when rbtk cannot page" in marked.stdout.splitlines()
    assert (unmarked.exit_code, [c["health"] for c in channels(api)]) == (0, [False])
    assert "health:" not in unmarked.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ops-mail"], "give --health or --no-health: there is nothing else to change"),
        (["nope", "--health"], "no notification channel named 'nope'"),
    ],
)
def test_update_refuses_with_what_to_do(rbtk: Rbtk, args: list[str], message: str) -> None:
    rbtk("admin", "notify", "channels", "add", "ops-mail", "--email", "ops@example.com")

    result = rbtk("admin", "notify", "channels", "update", *args)

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")

"""Tables fit the terminal: free text shortened, then a block per row; keys never cut."""

import pytest

from rbtk.cli.tables import table

HEADERS = ("DEDUP KEY", "STATUS", "MESSAGE")
KEY = "rbtk:pool_offline:warehouse:pool-7f3c2a"
MESSAGE = "Event processed after 3 attempts; PagerDuty answered 429 twice before it took it"
ROWS = [(KEY, "sent", MESSAGE), ("rbtk:test:1", "failed", "-")]


def test_output_to_a_pipe_keeps_whole_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)

    lines = table(HEADERS, ROWS, free_text=("MESSAGE",))

    assert lines[1] == f"{KEY}  sent    {MESSAGE}"


def test_free_text_is_shortened_with_an_ellipsis_to_the_width(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")

    lines = table(HEADERS, ROWS, free_text=("MESSAGE",))

    assert lines == [
        "DEDUP KEY                                STATUS  MESSAGE",
        f"{KEY}  sent    Event processed after 3 attemp…",
        "rbtk:test:1                              failed  -",
    ]


def test_a_table_too_wide_even_so_shows_a_block_per_row_with_keys_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "50")

    lines = table(HEADERS, ROWS, free_text=("MESSAGE",))

    assert lines == [
        f"DEDUP KEY: {KEY}",
        "STATUS:    sent",
        "MESSAGE:   Event processed after 3 attempts;",
        "           PagerDuty answered 429 twice before it",
        "           took it",
        "",
        "DEDUP KEY: rbtk:test:1",
        "STATUS:    failed",
        "MESSAGE:   -",
    ]

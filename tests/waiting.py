"""Waiting for something a background worker does, without fixed sleeps."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T],
    *,
    until: Callable[[T], object] = bool,
    timeout_s: float = 10.0,
    what: str = "condition",
) -> T:
    """Call `probe` until what it returns is true, or `until` of it is when given (e.g. a
    list read until it holds two rows); return that value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}: {value!r}")
        time.sleep(0.02)

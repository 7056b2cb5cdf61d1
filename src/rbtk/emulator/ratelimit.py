"""A sliding-window rate limit per key: at most `limit` admissions in any rolling window."""

import time
from collections import defaultdict, deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """Counts admitted hits only: a client that keeps retrying gets in once the window rolls."""

    def __init__(
        self, *, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)

    def admit(self, key: str) -> bool:
        if self.limit <= 0:
            return True
        hits = self._current(key)
        if len(hits) >= self.limit:
            return False
        hits.append(self._clock())
        return True

    def remaining(self, key: str) -> int:
        """Admissions left in the window now, for PagerDuty's `ratelimit-remaining` header."""
        return max(self.limit - len(self._current(key)), 0)

    def reset_s(self, key: str) -> float:
        """Seconds until the oldest admission leaves the window (`ratelimit-reset`)."""
        hits = self._current(key)
        return hits[0] + self.window_s - self._clock() if hits else 0.0

    def clear(self) -> None:
        self._hits.clear()

    def _current(self, key: str) -> deque[float]:
        now = self._clock()
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        return hits

"""Roboticks severities, their order, and PagerDuty's severity and default urgency for each."""

from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def urgency(self) -> str:
        """The urgency PagerDuty gives this severity by default (the README's "What pages")."""
        return "high" if self.rank >= _RANK[Severity.ERROR] else "low"

    def __lt__(self, other: str) -> bool:
        return self.rank < Severity(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Severity(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Severity(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Severity(other).rank


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}


def is_sent(severity: Severity, *, send_info: bool) -> bool:
    """Info is suppressed by default: a connector only sends it when it opts in."""
    return severity is not Severity.INFO or send_info

"""Plain-text output for the API client commands: aligned tables and short times."""

from collections.abc import Sequence
from datetime import UTC, datetime


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart, with no trailing spaces."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        for cells in (headers, *rows)
    ]


def fields(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """`label:  value` lines with the values aligned."""
    width = max(len(label) for label, _ in pairs) + 1
    return [f"{label + ':':<{width}} {value}".rstrip() for label, value in pairs]


def moment(value: str | None) -> str:
    """An API time (RFC 3339) as `YYYY-MM-DD HH:MM:SS` UTC; `-` when there is none."""
    if not value:
        return "-"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def yes_no(value: object) -> str:
    return "yes" if value else "no"

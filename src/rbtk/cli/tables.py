"""Plain-text output for the API client commands: aligned tables and short times.

A table fits the terminal it is shown on. Only free-text columns (a message, a reason) are
shortened, with an ellipsis, never a key, id or name a user copies into the next command; when
the table cannot fit even so, each row is shown as a block of `HEADER: value` lines instead,
the free text wrapped. Output to a file or a pipe keeps whole lines: grep and awk read it, and
a script has `--output json` for whole values anyway. Setting COLUMNS asks for a width there too.
"""

import os
import shutil
import sys
import textwrap
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

ELLIPSIS = "…"
SHORTEST = 12  # a shortened column still shows its first words
GAP = "  "


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    free_text: Collection[str] = (),
    indent: int = 0,
) -> list[str]:
    """Left-aligned columns two spaces apart, with no trailing spaces, as wide as the terminal
    allows (`free_text` names the columns that may be shortened), each line `indent` spaces in."""
    return [" " * indent + line for line in _fitted(headers, rows, free_text, indent)]


def _fitted(
    headers: Sequence[str], rows: Sequence[Sequence[str]], free_text: Collection[str], indent: int
) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    limit = output_width()
    if limit is not None:
        limit -= indent
    if limit is None or _line_width(widths) <= limit:
        return _aligned(headers, rows, widths)
    narrower = _shrunk(headers, widths, free_text, limit)
    if narrower is None:
        return _records(headers, rows, free_text, limit)
    shortened = [[_cut(cell, w) for cell, w in zip(row, narrower, strict=True)] for row in rows]
    return _aligned(headers, shortened, narrower)


def output_width() -> int | None:
    """The terminal's width, or None (no limit) when the output goes to a file or a pipe and
    COLUMNS is not set."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _aligned(
    headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
) -> list[str]:
    return [
        GAP.join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        for cells in (headers, *rows)
    ]


def _line_width(widths: Sequence[int]) -> int:
    return sum(widths) + len(GAP) * (len(widths) - 1)


def _shrunk(
    headers: Sequence[str], widths: Sequence[int], free_text: Collection[str], limit: int
) -> list[int] | None:
    """The widths with the free-text columns narrowed, widest first, until the line fits; None
    when it cannot."""
    narrower = list(widths)
    excess = _line_width(widths) - limit
    free = sorted((i for i, h in enumerate(headers) if h in free_text), key=lambda i: -widths[i])
    for i in free:
        least = min(widths[i], max(len(headers[i]), SHORTEST))
        narrower[i] = max(least, widths[i] - excess)
        excess -= widths[i] - narrower[i]
    return narrower if excess <= 0 else None


def _cut(cell: str, width: int) -> str:
    return cell if len(cell) <= width else cell[: width - 1] + ELLIPSIS


def _records(
    headers: Sequence[str], rows: Sequence[Sequence[str]], free_text: Collection[str], limit: int
) -> list[str]:
    """Each row as `HEADER: value` lines, a blank line between rows; free text wrapped."""
    label_width = max(len(header) for header in headers) + 1
    indent = " " * (label_width + 1)
    lines: list[str] = []
    for row in rows:
        if lines:
            lines.append("")
        for header, cell in zip(headers, row, strict=True):
            first = f"{header + ':':<{label_width}} "
            if header in free_text:
                wrapped = textwrap.wrap(cell, limit, initial_indent=first, subsequent_indent=indent)
                lines += wrapped or [first.rstrip()]
            else:
                lines.append(f"{first}{cell}".rstrip())
    return lines


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

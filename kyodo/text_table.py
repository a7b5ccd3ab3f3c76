"""Plain-text tables for the terminal, aligned by display width (a kanji name takes two columns)."""

from __future__ import annotations

from collections.abc import Sequence

from wcwidth import wcswidth


def display_width(text: str) -> int:
    width = wcswidth(text)
    return width if width >= 0 else len(text)   # a control character: count code points


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, right: Sequence[int] = ()) -> str:
    """Header line plus one line per row; columns whose index is in `right` are right-aligned (numbers)."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], display_width(value))
    lines = []
    for row in [list(headers), *cells]:
        padded = [_pad(value, widths[i], i in right) for i, value in enumerate(row)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)

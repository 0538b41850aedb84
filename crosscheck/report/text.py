"""Plain-text pieces shared by every report: numbers, columns, verdict lines.

Plain text, no colour, at most 100 columns wide, so that it reads the same in a terminal, a log
and a pasted issue.
"""

from __future__ import annotations

import math
import textwrap

WIDTH = 100


def number(value: float) -> str:
    return f"{value:.9g}"


def formatted(value, spec: str) -> str:
    """``value`` in ``spec``; "diverged" for an infinity and "-" for NaN."""
    value = float(value)
    if math.isfinite(value):
        return format(value, spec)
    return "-" if math.isnan(value) else "diverged"


def spread(values) -> str:
    """The largest difference among the values (NaN, a number a backend does not compute, left
    out), or "-" for fewer than two."""
    values = [v for v in values if not math.isnan(v)]
    if len(values) < 2:
        return "-"
    return f"{max(values) - min(values):.1e}"


def columns(header, rows, left=1) -> list[str]:
    """A table: the first ``left`` columns left-aligned (and cut to width), the others right;
    the last column is free text."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row):
        cells = [str(cell)[:widths[i]].ljust(widths[i]) if i < left else str(cell).rjust(widths[i])
                 for i, cell in enumerate(row[:-1])]
        return "  ".join([*cells, str(row[-1])]).rstrip()

    return [line(header), line(["-" * w for w in widths[:-1]] + ["-" * len(header[-1])])] + \
        [line(row) for row in rows]


def wrap(text: str) -> str:
    """A verdict wrapped at 100 columns, never inside a place such as "[layer 0]"."""
    text = text.replace("[layer ", "[layer\u00a0")
    return textwrap.fill(text, width=WIDTH, subsequent_indent="  ",
                         break_on_hyphens=False).replace("\u00a0", " ")


def shorten(text: str) -> str:
    return textwrap.shorten(text, width=WIDTH, placeholder="…")


def backends_line(versions: dict[str, str], reference: str | None = None) -> str:
    """``backends: numpy 2.4.6 (reference) · torch 2.13.0 · jax 0.10.2``."""
    return "backends: " + " · ".join(
        f"{name} {version}" + (" (reference)" if name == reference and len(versions) > 1
                               else "") for name, version in versions.items())

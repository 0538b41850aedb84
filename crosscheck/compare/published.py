"""Published figures: printed strings checked at their printed precision.

A figure printed as "0.16" holds for any computed value in [0.155, 0.165]: half a unit in its last
printed place either side. An erratum is a printed figure that is wrong: its check passes only
when the computed value does *not* round to the printed one. Both comparisons are exact decimal
arithmetic on the shortest decimal that round-trips the computed float (its repr), so a value
on the boundary is decided as a reader of the printed digits would decide it.
"""

from __future__ import annotations

import re
from decimal import Decimal

PRINTED = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]{1,3})?")


def parse_printed(text: str) -> Decimal:
    """The printed figure as a Decimal; ValueError unless it is a plain decimal number such as
    "0.16", "-0.0478", "1" or "1.2e-3" (ASCII digits, an exponent of at most three digits)."""
    if not PRINTED.fullmatch(text):
        raise ValueError(f"{text!r} is not a number as printed (such as \"0.16\" or "
                         "\"-1.2e-3\")")
    return Decimal(text)


def half_unit(printed: Decimal) -> Decimal:
    """Half a unit in the last printed place: 0.005 for "0.16", 0.5 for "1", 5e-5 for "1.2e-3"."""
    return Decimal(5).scaleb(printed.as_tuple().exponent - 1)


def rounds_to(computed: float, text: str) -> bool:
    """True when ``computed`` rounds to the figure printed as ``text``."""
    printed = parse_printed(text)
    return abs(Decimal(repr(float(computed))) - printed) <= half_unit(printed)

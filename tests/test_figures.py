"""Printed-precision checks: "0.16" holds for [0.155, 0.165], and nothing outside."""

from __future__ import annotations

import pytest

from crosscheck.compare.published import rounds_to


@pytest.mark.parametrize(("computed", "printed", "holds"), [
    (0.155, "0.16", True), (0.165, "0.16", True), (0.1549999, "0.16", False),
    (0.1650001, "0.16", False), (0.15897245, "0.16", True),
    (-0.04897245, "-0.0478", False), (-0.04897245, "-0.0490", True),
    (-0.0087593, "-0.008", False), (-0.0087593, "-0.009", True),
    (0.9758, "1", True), (0.4999, "1", False), (0.00123, "1.2e-3", True),
    (0.00126, "1.2e-3", False), (0.104333, "0.10", True), (0.104333, "0.1", True),
    (0.0288, "0.0", True), (-0.051, "0.0", False), (100.0, "1E2", True),
])
def test_rounds_to_printed_precision(computed, printed, holds):
    assert rounds_to(computed, printed) is holds


@pytest.mark.parametrize("bad", ["", " 0.1", "abc", "nan", "inf", "0.1.2"])
def test_not_a_printed_number(bad):
    with pytest.raises(ValueError):
        rounds_to(0.1, bad)

"""One line per autograder test: ``assert_matches_reference(student.gradients, example="xor")``.

The assertion fails with the text report of ``crosscheck.verify``: the verdict, the diagnosis
(the known mistake the function makes, in which layer, and the fix) and the first numbers that
differ. A student's exception is raised from the student's own code.
"""

from __future__ import annotations

import crosscheck


def assert_matches_reference(function, example="seed002-linear", *, random: int = 20,
                             seed: int = 0, layout: str = "outputs-inputs",
                             step: bool | None = None):
    """Assert that ``function`` agrees with the reference on ``example`` and its random probes;
    the report is returned for further checks (``report.diagnosis``)."""
    report = crosscheck.verify(function, example, random, seed, layout, step)
    if not report.ok:
        raise AssertionError("\n" + str(report))
    return report

"""An autograder as a teacher writes it with crosscheck.testing: one line per test.

The students' functions are those of tests/students/. A right one passes; a wrong one fails
with the report, whose diagnosis names the mistake, which the teacher can also read off the
report the helper returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crosscheck.testing import assert_matches_reference

sys.path.insert(0, str(Path(__file__).parent / "students"))
import xor_student

sys.path.pop(0)


def test_the_right_gradients_pass():
    report = assert_matches_reference(xor_student.gradients, example="xor", random=10)
    assert report.ok and report.probes == 11


def test_the_right_step_passes():
    assert assert_matches_reference(xor_student.step, example="xor").step


def test_a_wrong_function_fails_with_its_diagnosis():
    with pytest.raises(AssertionError) as failed:
        assert_matches_reference(xor_student.no_bias, example="xor")
    text = str(failed.value)
    assert "FAIL:" in text and "Diagnosis: bias_not_trained: the bias gradients are zero or " \
                                "missing in every layer" in " ".join(text.split())

"""The tolerance policy: how far two correct backends may differ, in one place.

A number agrees when ``|a − b| ≤ tolerance × scale``, where ``a`` is the reference backend's
(``numpy`` unless another is named first) and the scale is:

* for everything computed at the initial parameters or one step from them, the magnitude of the
  terms the number is computed from (``crosscheck/compare/magnitudes.py``): never looser than
  the number's own size, so a gradient of 1e-25 is judged at 1e-25, and only as loose as its
  rounding needs where terms cancel or a slope saturates;
* after a training run of more than one step, the largest magnitude of the array the number
  belongs to (per network in a stack): rounding differences are carried through every update,
  and there the number's own array is the measure.

On a first step the tolerance is 256 units of the dtype's rounding ε (2.2e-16 in float64,
1.2e-7 in float32) of that scale: 5.7e-14 in float64, 3.1e-5 in float32. Measured with
``benchmarks/tolerances.py`` (figures in benchmarks/README.md), two correct backends differ by at
most 16 ε of it over 30,000 random networks of the sweep's draw, 5 ε over 30,000 of 5 to 10
layers, and under 1 ε on the shipped examples, so the margin is sixteenfold; while a missing
factor, a wrong sign or a missing slope is of order 1, and an error of 1e-9 in any gradient
entry of any shipped example is caught (of 1e-4 of its terms, where an entry cancels below
that: float64 itself carries no more of it). After a longer run the tolerance is 1e-9 (float64) and
1e-4 (float32) of the array's largest value, as it always was. A float32 backend is judged the
same way against the float32 reference (the sweep) or the float64 one (``run --dtype float32``
against the tests' float64 reference).
"""

from __future__ import annotations

import numpy as np

from crosscheck.compare.quantities import AFTER_STEPS, FIRST_STEP, Quantity

# Units of rounding of a number's terms that two correct backends may differ by on a first step.
ULPS = 256
TOLERANCE = {
    ("float64", FIRST_STEP): ULPS * float(np.finfo(np.float64).eps),
    ("float64", AFTER_STEPS): 1e-9,
    ("float32", FIRST_STEP): ULPS * float(np.finfo(np.float32).eps),
    ("float32", AFTER_STEPS): 1e-4,
}


def phase(quantity: Quantity, steps: int) -> str:
    """The phase whose tolerance judges ``quantity`` in a run of ``steps`` steps: one step from
    the initial parameters is judged as the first step is."""
    return AFTER_STEPS if quantity.phase == AFTER_STEPS and steps > 1 else FIRST_STEP


def tolerance(dtype: str, quantity: Quantity, steps: int) -> float:
    return TOLERANCE[(dtype, phase(quantity, steps))]

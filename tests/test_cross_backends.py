"""PyTorch and JAX against the NumPy reference, on every shipped example under every rule.

Tolerances, relative to max(1, |value|):
- float64, everything computed from the initial parameters and after one step: 1e-12. The
  backends differ only in the order of rounding (about 1e-16 per operation, a few dozen
  operations deep); a wrong sign, a missing σ' or a missing ½ is of order 1.
- float64 after an example's full training run (XOR: 5,000 online passes, 20,000 updates):
  1e-9, since rounding differences are carried and amplified through every update.
- float32 backends against the float64 reference, one step: 1e-5 (float32 keeps about 7
  significant digits; these networks lose at most one or two through cancellation).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import reference
from crosscheck import examples, harness
from tests.helpers import assert_close, load_backend

FRAMEWORKS = ["torch", "jax"]
SHIPPED = [p.stem for p in examples.shipped()]
CASES = [(name, rule) for name in SHIPPED for rule in reference.RULES]
ONE_STEP = {"float64": 1e-12, "float32": 1e-5}
LONG_RUN = 1e-9


backend = load_backend


@functools.cache
def results(backend_name, example_name, rule, dtype, steps=None):
    example = examples.load(examples.find(example_name))
    settings = harness.Settings.of(example, rule=rule, dtype=dtype, steps=steps)
    module = reference if backend_name == "numpy" else backend(backend_name)
    return harness.compute(module, example, settings)


def compare(got, want, backend_name, rtol, phases=("first step", "after steps")):
    """Every number of two results, through the one helper whose message says where."""
    for (where, phase, x), (_, _, y) in zip(harness.leaves(got), harness.leaves(want)):
        if phase in phases:
            assert_close(x, y, rtol=rtol, backend=backend_name, against="numpy float64",
                         quantity=where)


def ids(cases):
    return [f"{name}-{rule}" for name, rule in cases]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "rule"), CASES, ids=ids(CASES))
def test_first_step_matches_reference(name, rule, dtype, framework):
    """Loss, outputs, per-layer errors and gradients at the initial parameters, the parameters
    after one step and the loss after it."""
    got = results(framework, name, rule, dtype, steps=1)
    wrong = [where for where, _, x in harness.leaves(got)
             if where not in ("loss_before", "loss_after") and x.dtype != np.dtype(dtype)]
    assert not wrong, f"{framework}: {wrong} are not {dtype}"     # the losses are Python floats
    compare(got, results("numpy", name, rule, "float64", steps=1), framework, ONE_STEP[dtype])


LONG = [(name, rule) for name, rule in CASES
        if examples.load(examples.find(name)).steps > 1]

CHAOTIC = harness.CHAOTIC   # runs compared over fewer steps, and why: see crosscheck/harness.py


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(("name", "rule"), LONG, ids=ids(LONG))
def test_full_training_run_matches_reference(name, rule, framework):
    """The parameters after the example's steps and the loss after every step, float64."""
    steps = CHAOTIC.get((name, rule))
    got = results(framework, name, rule, "float64", steps)
    compare(got, results("numpy", name, rule, "float64", steps), framework, LONG_RUN,
            phases=("after steps",))

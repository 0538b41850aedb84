"""PyTorch and JAX against the NumPy reference, on every shipped example under every rule.

The tolerances are the harness's own (``crosscheck/compare/tolerances.py``), applied by the same
comparison as ``crosscheck run``: every number within 1e-12 (float64) or 1e-5 (float32) of the
magnitude of the terms it is computed from, at the initial parameters and after one step; and
after an example's full training run (XOR: 5,000 online passes, 20,000 updates) within 1e-9
(float64) of the largest value of its array, since rounding differences are carried through
every update. float32 backends are judged against the float64 reference: float32 keeps about
7 significant digits, and these networks lose at most one or two of them.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import reference
from crosscheck import examples
from crosscheck.compare.magnitudes import magnitudes
from crosscheck.compare.quantities import AFTER_STEPS, REPORTED
from crosscheck.runs import example as runs
from tests.helpers import assert_results_agree, load_backend

FRAMEWORKS = ["torch", "jax"]
SHIPPED = [p.stem for p in examples.shipped()]
CASES = [(name, rule) for name in SHIPPED for rule in reference.RULES]

backend = load_backend


@functools.cache
def example_of(name):
    return examples.load(examples.find(name))


@functools.cache
def results(backend_name, example_name, rule, dtype, steps=None):
    example = example_of(example_name)
    settings = runs.Settings.of(example, rule=rule, dtype=dtype, steps=steps)
    module = reference if backend_name == "numpy" else backend(backend_name)
    return runs.compute(module, example, settings)


@functools.cache
def scales(example_name, rule):
    example = example_of(example_name)
    return magnitudes(example.layers, example.inputs, example.targets, example.loss, rule,
                      example.learning_rate, results("numpy", example_name, rule, "float64", 1))


def ids(cases):
    return [f"{name}-{rule}" for name, rule in cases]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "rule"), CASES, ids=ids(CASES))
def test_first_step_matches_reference(name, rule, dtype, framework):
    """Loss, outputs, per-layer errors and gradients at the initial parameters, the parameters
    after one step and the loss after it."""
    got = results(framework, name, rule, dtype, steps=1)
    wrong = [f"{place}" for q in REPORTED for place, array in q.leaves(q.value(got, 0.0))
             if array is not None and np.asarray(array).dtype != np.dtype(dtype)
             and q.key != "loss_before"]                  # the loss before is a Python float
    assert not wrong, f"{framework}: {wrong} are not {dtype}"
    assert_results_agree(got, results("numpy", name, rule, "float64", steps=1),
                         backend=framework, against="numpy float64", dtype=dtype, steps=1,
                         scales=scales(name, rule))


LONG = [(name, rule) for name, rule in CASES if example_of(name).steps > 1]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(("name", "rule"), LONG, ids=ids(LONG))
def test_full_training_run_matches_reference(name, rule, framework):
    """The parameters after the example's steps and the loss after every step, float64; a
    chaotic run (its file's [chaotic_steps]) over its first steps only."""
    steps = example_of(name).chaotic_steps.get(rule)
    got = results(framework, name, rule, "float64", steps)
    after = tuple(q for q in REPORTED if q.phase == AFTER_STEPS)
    assert_results_agree(got, results("numpy", name, rule, "float64", steps),
                         backend=framework, against="numpy float64", dtype="float64",
                         steps=steps or example_of(name).steps, quantities=after)

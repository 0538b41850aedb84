"""The frameworks' optimizers: torch.optim and optax against the NumPy reference of the same
convention, the reference against closed forms of its first steps, and the refusals.

Cross-tests (float64): every optimizer × convention × backend that can compute it, one step in
batch and online mode on every shipped example's network, judged like ``crosscheck run`` judges
a first step (256 ε of each number's scale |W| + |W_after − W|: an optimizer's step is no longer
η·g, and rounding enters through the step's own terms); then 100 steps in both modes on XOR's
and seed 000's networks, within 1e-9 of each array's largest value, the policy for longer runs.
Centered RMSprop is checked over one step only: it divides by √(v − ḡ²), which cancels as the
gradient settles, and after 100 batch steps two correct computations differ by 1e-3.

Each variant turns several settings on at once (momentum with Nesterov and weight decay, …), so
that a mapping gone wrong in any of them changes the numbers; the closed forms below pin the
reference itself to the documented formulas where one or two steps can be written by hand.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import reference
from crosscheck import examples
from crosscheck.compare.quantities import AFTER_STEPS, FIRST_STEP
from crosscheck.compare.tolerances import TOLERANCE
from reference import Optimizer
from tests.helpers import assert_close, load_backend, parameters

NETWORKS = ["seed000", "seed001-exact", "seed002-linear", "seed002-relu", "xor"]
LONG = ["xor", "seed000"]
STEPS = 100


def _variants(convention):
    """The settings each test turns on, per optimizer: every hyperparameter in at least one."""
    sgd = [dict(momentum=0.9, nesterov=True, weight_decay=0.1), dict(momentum=0.5)]
    if convention == "torch":
        sgd.append(dict(momentum=0.9, dampening=0.5))
    adam = [dict(weight_decay=0.1, betas=(0.8, 0.99), eps=1e-6), dict(amsgrad=True)]
    rmsprop = [dict(momentum=0.9, weight_decay=0.1, eps=1e-4), dict(centered=True, alpha=0.9)]
    if convention == "optax":
        rmsprop.append(dict(eps_in_sqrt=False, eps=1e-6))
    return [("sgd", v) for v in sgd] + [(n, v) for n in ("adam", "adamw") for v in adam] + \
        [("rmsprop", v) for v in rmsprop]


SPECS = [Optimizer(name, convention, **settings) for convention in reference.optimizers.CONVENTIONS
         for name, settings in _variants(convention)]
# The learning rate each optimizer is used with here: Adam's and RMSprop's steps are about η.
RATE = {"sgd": 0.5, "adam": 0.02, "adamw": 0.02, "rmsprop": 0.01}


@functools.cache
def example(name):
    return examples.load(examples.find(name))


def _train(module, spec, name, mode, steps):
    ex = example(name)
    return module.train(ex.layers, ex.inputs, ex.targets, ex.loss, RATE[spec.name], "exact",
                        mode, steps, optimizer=spec)


def _backend_for(spec, backend_name):
    backend = load_backend(backend_name)
    lacks = backend.refuse_optimizer(spec)
    if lacks:
        pytest.skip(f"{backend_name}: {lacks}")
    return backend


def assert_trained_alike(got, want, start, *, steps, backend, against):
    """The parameters and the losses of two training runs, by the tolerance of ``steps`` steps;
    one step is judged against |W| + |W_after − W|, number by number."""
    (net, losses), (net_want, losses_want) = got, want
    phase = FIRST_STEP if steps == 1 else AFTER_STEPS
    rtol = TOLERANCE["float64", phase]
    for (k, part, value), (_, _, expected), (_, _, before) in zip(
            parameters(net), parameters(net_want), parameters(start)):
        scale = np.abs(before) + np.abs(expected - before) if steps == 1 else None
        assert_close(value, expected, rtol=rtol, backend=backend, against=against, layer=k,
                     param=part, quantity="params_after", scale=scale)
    assert_close(losses, losses_want, rtol=rtol, backend=backend, against=against,
                 quantity="losses", scale=np.abs(losses_want))


def _ids(specs):
    return [f"{s.name}-{s.convention}-{'-'.join(f'{k}' for k in s.settings()) or 'defaults'}"
            for s in specs]


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
@pytest.mark.parametrize("spec", SPECS, ids=_ids(SPECS))
def test_one_step_matches_the_reference_of_its_convention(spec, backend_name):
    backend = _backend_for(spec, backend_name)
    for name in NETWORKS:
        for mode in reference.MODES:
            assert_trained_alike(_train(backend, spec, name, mode, 1),
                                 _train(reference, spec, name, mode, 1), example(name).layers,
                                 steps=1, backend=f"{backend_name} {spec} {name} {mode}",
                                 against="numpy")


LONG_SPECS = [s for s in SPECS if not s.centered]


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
@pytest.mark.parametrize("spec", LONG_SPECS, ids=_ids(LONG_SPECS))
def test_100_steps_match_the_reference_of_its_convention(spec, backend_name):
    backend = _backend_for(spec, backend_name)
    for name in LONG:
        for mode in reference.MODES:
            assert_trained_alike(_train(backend, spec, name, mode, STEPS),
                                 _train(reference, spec, name, mode, STEPS),
                                 example(name).layers, steps=STEPS,
                                 backend=f"{backend_name} {spec} {name} {mode}", against="numpy")

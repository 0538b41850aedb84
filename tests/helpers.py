"""Shared test helpers: the harness's one comparison with a failure that says where, and random
networks.

``assert_close`` plays the part of tinygrad's ``helper_test_op`` for single arrays and
``assert_results_agree`` for whole results: both go through ``crosscheck.compare.comparison``,
the comparison every command uses, so a failure always names the backend, the quantity, the
layer, the parameter, the index, both values and the difference, and a test judges agreement
exactly as ``crosscheck run`` does.
"""

from __future__ import annotations

import numpy as np
import pytest

from crosscheck import backends
from crosscheck.compare.comparison import Comparison
from crosscheck.compare.quantities import REPORTED, Place
from crosscheck.runs import sweep
from reference import Layer
from reference.types import LOSS_OUTPUTS


def load_backend(name):
    """The backend module of ``name``, or skip the test with the reason it cannot load."""
    try:
        return backends.load(name)
    except backends.BackendUnavailable as exc:
        pytest.skip(str(exc))


def _fail_if(comparison: Comparison, backend: str) -> None:
    found = comparison.disagreement
    if found is not None:
        raise AssertionError(f"{backend}: {found}; {comparison.differing} of "
                             f"{comparison.compared} numbers differ")


def assert_close(actual, expected, *, rtol, backend="numpy", against="expected", layer=None,
                 param="", quantity="", scale=None):
    """Assert |actual − expected| ≤ rtol × scale elementwise (scale: the largest magnitude of
    ``expected`` unless given), or say where not."""
    comparison = Comparison(against)
    comparison.add_array(backend, Place(quantity or "value", layer, param or None), expected,
                         actual, rtol, scale)
    _fail_if(comparison, backend)


def assert_results_agree(got, want, *, backend, against, dtype, steps, scales=None,
                         quantities=REPORTED):
    """Every reported quantity of two Results, by the tolerance policy of ``crosscheck run``."""
    comparison = Comparison(against, want, quantities=quantities, dtype=dtype, steps=steps,
                            scales=scales)
    comparison.add(backend, got)
    _fail_if(comparison, backend)


def random_network(rng, depth, activations, n_inputs, *, bias_kinds=("present", "absent",
                                                                      "frozen"), max_width=5):
    """A network of ``depth`` layers with random widths, weights and bias kinds."""
    widths = [n_inputs] + [int(rng.integers(1, max_width + 1)) for _ in range(depth)]
    layers = []
    for i in range(depth):
        weights = rng.normal(0, 0.8, size=(widths[i + 1], widths[i]))
        kind = bias_kinds[int(rng.integers(len(bias_kinds)))]
        bias = None if kind == "absent" else rng.normal(0, 0.5, size=widths[i + 1])
        layers.append(Layer(weights, bias, activations[i % len(activations)], kind != "frozen"))
    return tuple(layers)


def parameters(net):
    """(layer, part, array) for every parameter array of a network, biases included."""
    for i, layer in enumerate(net):
        yield i, "weights", layer.weights
        if layer.bias is not None:
            yield i, "bias", layer.bias


def with_parameter(net, layer, part, index, value):
    """A copy of ``net`` with one parameter entry replaced."""
    copy = tuple(Layer(lay.weights.copy(), None if lay.bias is None else lay.bias.copy(),
                       lay.activation, lay.train_bias) for lay in net)
    getattr(copy[layer], part)[index] = value
    return copy


def suited(net, T, loss_name):
    """(net, T) made fit for ``loss_name``: a classification loss gets an output layer it can
    read (identity where the drawn one is not allowed) and targets it accepts, drawn from T:
    softmax rows for cross-entropy, σ(T) for binary cross-entropy."""
    if loss_name not in LOSS_OUTPUTS:
        return net, T
    activations = sweep.suited(tuple(layer.activation for layer in net), loss_name)
    net = tuple(layer._replace(activation=a) for layer, a in zip(net, activations))
    if loss_name.startswith("cross_entropy"):
        shifted = np.exp(T - T.max(axis=-1, keepdims=True))
        return net, shifted / shifted.sum(axis=-1, keepdims=True)
    return net, 1 / (1 + np.exp(-T))

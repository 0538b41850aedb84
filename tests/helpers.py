"""Shared test helpers: one comparison whose failure says where and by how much, random networks.

``assert_close`` plays the part of tinygrad's ``helper_test_op``: every comparison in the suite
goes through it, so a failure always names the backend, the layer, the parameter, the index,
both values and the difference.
"""

from __future__ import annotations

import numpy as np
import pytest

from crosscheck import backends
from reference import Layer


def load_backend(name):
    """The backend module of ``name``, or skip the test with the reason it cannot load."""
    try:
        return backends.load(name)
    except backends.BackendUnavailable as exc:
        pytest.skip(str(exc))


def assert_close(actual, expected, *, rtol, backend="numpy", against="expected", layer=None,
                 param="", quantity=""):
    """Assert |actual − expected| ≤ rtol · max(1, |expected|) elementwise, or say where not."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    where = " ".join(p for p in (quantity, f"layer {layer}" if layer is not None else "", param)
                     if p)
    assert actual.shape == expected.shape, (
        f"{backend}: {where}: shape {actual.shape} but {against} has {expected.shape}")
    diff = np.abs(actual - expected)
    scaled = diff / np.maximum(1.0, np.abs(expected))
    bad = ~(scaled <= rtol)          # also catches NaN
    if bad.any():
        k = np.unravel_index(int(np.argmax(np.where(bad, np.nan_to_num(scaled, nan=np.inf), -1))),
                             diff.shape) if diff.shape else ()
        index = f" index {list(map(int, k))}" if k else ""
        raise AssertionError(
            f"{backend}: {where}{index}: {backend} = {float(actual[k])!r}, "
            f"{against} = {float(expected[k])!r}, difference {diff[k]:.3g} "
            f"(relative {scaled[k]:.3g} > {rtol:g}); {int(bad.sum())} of {bad.size} entries differ")


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

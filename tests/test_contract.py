"""Every backend exposes the reference's contract: the same names, signatures and refusals."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import reference
from tests.helpers import load_backend

NAMES = ["numpy", "torch", "jax"]
FUNCTIONS = ["forward", "loss", "gradients", "step", "train"]


@pytest.mark.parametrize("name", NAMES)
def test_same_names_and_signatures(name):
    backend = load_backend(name)
    assert backend.NAME == name
    assert sorted(backend.__all__) == sorted(reference.__all__)
    for function in FUNCTIONS:
        assert inspect.signature(getattr(backend, function)) == \
            inspect.signature(getattr(reference, function)), f"{name}.{function}"
    assert backend.Layer is reference.Layer and backend.RuleUndefined is reference.RuleUndefined
    assert isinstance(backend.version(), str) and backend.version()


NET = (reference.Layer([[0.5, -0.5], [0.2, 0.1]], None, "sigmoid"),
       reference.Layer([[0.5, -0.5], [0.1, 0.2]], [0.1, 0.0], "sigmoid"))
X, T = [[1.0, 2.0], [0.5, -1.0]], [[0.0, 1.0], [1.0, 0.0]]


@pytest.mark.parametrize("name", NAMES)
def test_proportional_on_a_zero_weight_sum_is_the_same_error_everywhere(name):
    backend = load_backend(name)
    message = "proportional rule: layer 1 neuron 0: its incoming weights sum to zero"
    with pytest.raises(reference.RuleUndefined, match=message):
        backend.gradients(NET, X, T, "half_sse", "proportional")
    for mode in reference.MODES:
        with pytest.raises(reference.RuleUndefined, match=message):
            backend.train(NET, X, T, "half_sse", 0.1, "proportional", mode, steps=2)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("call", "message"), [
    (lambda b: b.loss(NET, X, [0.0, 1.0, 1.0, 0.0], "sse"), r"T has shape \(1, 4\), expected "
                                                            r"\(2, 2\)"),
    (lambda b: b.forward(NET, [[1.0, 2.0, 3.0]]), "layer 0: weights of shape"),
    (lambda b: b.step(NET, X, T, "sse", 0.0), "learning rate must be a finite number > 0"),
    (lambda b: b.train(NET, X, T, "sse", 0.1, steps=-1), "steps must be a whole number >= 0"),
    (lambda b: b.train(NET, X, T, "sse", 0.1, steps=1.5), "steps must be a whole number >= 0"),
    (lambda b: b.gradients(NET, X, T, "sse", "hebbian"), "unknown rule 'hebbian'"),
    (lambda b: b.train(NET, X, T, "sse", 0.1, mode="minibatch"), "unknown mode 'minibatch'"),
], ids=["targets", "inputs", "lr", "negative-steps", "fractional-steps", "rule", "mode"])
def test_bad_arguments_are_refused_alike(name, call, message):
    with pytest.raises(ValueError, match=message):
        call(load_backend(name))


@pytest.mark.parametrize("name", NAMES)
def test_zero_steps_return_the_network_unchanged(name):
    net, losses = load_backend(name).train(NET, X, T, "sse", 0.1, steps=0)
    assert losses.shape == (0,)
    for got, want in zip(net, NET):
        np.testing.assert_array_equal(got.weights, want.weights)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_proportional_within_rounding_of_zero_is_undefined_in_every_dtype(name, dtype):
    """0.1 + 0.2 − 0.3 is 5.6e-17 in float64 (and 0 in float32): dividing by it would give
    errors of 1e15, so it is the same undefined split as an exact zero, on every backend."""
    net = (NET[0], reference.Layer([[0.1, 0.2, -0.3], [0.1, 0.2, 0.3]], None, "sigmoid"))
    net = (reference.Layer(np.eye(3, 2), None, "sigmoid"), net[1])
    message = r"layer 1 neuron 0: .* \(within rounding\)"
    with pytest.raises(reference.RuleUndefined, match=message):
        load_backend(name).gradients(net, X, T, "half_sse", "proportional", dtype)

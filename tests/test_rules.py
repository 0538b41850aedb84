"""The tutorials' two rules against the chain rule, and against the tutorials' own numbers."""

from __future__ import annotations

import numpy as np
import pytest

import reference as R
from tests.helpers import assert_close, load_backend, random_network

SEEDS = range(20)


def data_for(net, rng, n=3):
    return rng.normal(size=(n, net[0].weights.shape[1])), \
        rng.normal(size=(n, net[-1].weights.shape[0]))


@pytest.mark.parametrize("seed", SEEDS)
def test_raw_error_is_exact_when_layers_above_the_first_are_identity(seed):
    """With f' = 1 above the first layer, delta_l = e_l and e_l·W_l is the chain rule itself:
    the two rules run the same floating-point operations, so they agree exactly."""
    rng = np.random.default_rng(seed)
    first = R.ACTIVATIONS[seed % 4]
    net = random_network(rng, 2 + seed % 3, [first, "identity"], 3)
    net = (net[0], *(layer._replace(activation="identity") for layer in net[1:]))
    X, T = data_for(net, rng)
    exact, raw = (R.gradients(net, X, T, "half_sse", rule) for rule in ("exact", "raw_error"))
    for i in range(len(net)):
        assert np.array_equal(exact.weights[i], raw.weights[i]), f"layer {i} weights"
        assert np.array_equal(exact.errors[i], raw.errors[i]), f"layer {i} errors"


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_raw_error_is_not_the_gradient_with_a_nonlinear_layer_above(activation):
    """A non-constant slope above the first layer makes raw_error differ from the chain rule
    in every layer below it, by far more than rounding."""
    rng = np.random.default_rng(1)
    net = random_network(rng, 3, ["tanh", activation, "identity"], 3, bias_kinds=("present",))
    X, T = rng.normal(size=(10, 3)), rng.normal(size=(10, net[-1].weights.shape[0]))
    z1 = R.forward(net[:1], X)[0] @ net[1].weights.T + net[1].bias
    assert 0 < (z1 > 0).mean() < 1       # for relu: some slopes 0 and some 1
    exact, raw = (R.gradients(net, X, T, "half_sse", rule) for rule in ("exact", "raw_error"))
    assert np.array_equal(exact.weights[2], raw.weights[2])      # the top layer is not affected
    np.testing.assert_array_equal(exact.weights[1], raw.weights[1])
    rel = np.abs(exact.weights[0] - raw.weights[0]).max() / np.abs(exact.weights[0]).max()
    assert rel > 1e-2, f"raw_error matched exact in layer 0 (relative difference {rel:.2g})"


def test_raw_error_with_a_sigmoid_output_layer_differs_from_exact():
    """Seed 001's network: who.T·e omits the output's σ' = o(1 − o), a factor of 0.0736 here."""
    net = seed001_network()
    X, T = [[0.9, 0.1, 0.8]], [[1.0]]
    exact, raw = (R.gradients(net, X, T, "half_sse", rule) for rule in ("exact", "raw_error"))
    o = R.forward(net, X)[-1][0, 0]
    np.testing.assert_allclose(exact.errors[0], raw.errors[0] * o * (1 - o), rtol=1e-14)


def seed001_network():
    return (R.Layer([[0.9, 0.3, 0.4], [0.2, 0.8, 0.2], [0.1, 0.5, 0.6], [0.7, 0.1, 0.3]], None,
                    "sigmoid"),
            R.Layer([[0.6, 0.4, 0.1, 0.2]], [1.537768], "sigmoid"))


def test_proportional_reproduces_seed001_share():
    """0.08 · 0.6 / (0.6 + 0.4 + 0.1 + 0.2) = 0.037, as seed 001 prints it."""
    net = seed001_network()
    errors = R.gradients(net, [[0.9, 0.1, 0.8]], [[1.0]], "half_sse", "proportional").errors
    assert round(errors[1][0, 0], 2) == 0.08
    assert round(errors[0][0, 0], 3) == 0.037
    # All four shares, from the tutorial's formula with the output error as computed.
    shares = errors[1][0, 0] * np.array([0.6, 0.4, 0.1, 0.2]) / 1.3
    np.testing.assert_allclose(errors[0][0], shares, rtol=1e-15)


def test_proportional_splits_each_output_error_over_its_own_row():
    """Two outputs: e_h = Σ_j w_ji / (Σ_k w_jk) · e_j, with each row's own sum (the corrected
    form of seed 000's err_h2 and seed 001's e_who, which reuse the first row's sum)."""
    W = np.array([[1.0, 3.0], [2.0, 2.0]])
    net = (R.Layer(np.eye(2), None, "identity"), R.Layer(W, None, "identity"))
    X = np.array([[0.0, 0.0]])
    T = np.array([[0.4, 0.8]])       # outputs are 0, so e = t = [0.4, 0.8]
    errors = R.gradients(net, X, T, "half_sse", "proportional").errors
    hand = [0.4 * 1 / 4 + 0.8 * 2 / 4, 0.4 * 3 / 4 + 0.8 * 2 / 4]
    np.testing.assert_allclose(errors[0][0], hand, rtol=1e-15)


def test_proportional_with_a_zero_weight_sum_is_a_clear_error():
    net = (R.Layer(np.eye(2), None, "sigmoid"), R.Layer([[0.5, -0.5], [0.1, 0.2]], None,
                                                        "sigmoid"))
    with pytest.raises(R.RuleUndefined, match=r"layer 1 neuron 0: its incoming weights sum to "
                                              r"zero"):
        R.gradients(net, [[1.0, 2.0]], [[0.0, 1.0]], "half_sse", "proportional")
    with pytest.raises(R.RuleUndefined):
        R.train(net, [[1.0, 2.0]], [[0.0, 1.0]], "half_sse", 0.1, "proportional", steps=3)


def test_rules_share_the_top_layer_gradient():
    """The rules differ only in what reaches the layers below: the top layer is always exact."""
    rng = np.random.default_rng(11)
    net = random_network(rng, 3, ["sigmoid"], 2, bias_kinds=("present",))
    net = tuple(layer._replace(weights=np.abs(layer.weights) + 0.1) for layer in net)
    X, T = data_for(net, rng)
    grads = [R.gradients(net, X, T, "sse", rule, lr=0.1) for rule in R.RULES]
    for g in grads[1:]:
        assert np.array_equal(g.weights[-1], grads[0].weights[-1])
        assert np.array_equal(g.biases[-1], grads[0].biases[-1])
        assert not np.allclose(g.weights[0], grads[0].weights[0], rtol=1e-3)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
@pytest.mark.parametrize("seed", range(6))
def test_frameworks_raw_error_is_exact_when_layers_above_the_first_are_identity(seed,
                                                                                backend_name):
    """The same fact through the frameworks' own extension points (autograd.Function and
    custom_vjp): the rule's input VJP and autograd's chain rule give the same numbers."""
    backend = load_backend(backend_name)
    rng = np.random.default_rng(100 + seed)
    net = random_network(rng, 2 + seed % 3, [R.ACTIVATIONS[seed % 4], "identity"], 3)
    net = (net[0], *(layer._replace(activation="identity") for layer in net[1:]))
    X, T = data_for(net, rng)
    exact, raw = (backend.gradients(net, X, T, "mse", rule) for rule in ("exact", "raw_error"))
    for i in range(len(net)):
        assert_close(raw.weights[i], exact.weights[i], rtol=1e-15, backend=backend_name,
                     against="exact", layer=i, param="weights", quantity="raw_error gradient")
        assert_close(raw.errors[i], exact.errors[i], rtol=1e-15, backend=backend_name,
                     against="exact", layer=i, quantity="raw_error error")
    sigmoid_top = (*net[:-1], net[-1]._replace(activation="sigmoid"))
    exact, raw = (backend.gradients(sigmoid_top, X, T, "mse", rule)
                  for rule in ("exact", "raw_error"))
    assert not np.allclose(raw.weights[0], exact.weights[0], rtol=1e-3), backend_name

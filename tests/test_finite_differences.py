"""The exact rule against central finite differences: independent of the backward code.

Central differences with step h = 1e-5 in float64 have a truncation error of about h²·|E'''| and
a rounding error of about eps·|E|/h, together around 1e-10 for these networks. The comparison is
relative to max(|g|, 1e-4), so 1e-6 is far below any wrong sign or missing factor (an error of
order 1) while leaving headroom over the 1e-10 noise.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import reference as R
from reference import losses
from tests.helpers import parameters, random_network, suited, with_parameter

H = 1e-5
RTOL = 1e-6
FLOOR = 1e-4


def finite_difference_gradient(net, X, T, loss_name):
    """∂E/∂θ for every parameter entry, by central differences of the loss alone."""
    grads = {}
    for layer, part, array in parameters(net):
        g = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            up = R.loss(with_parameter(net, layer, part, index, array[index] + H), X, T, loss_name)
            down = R.loss(with_parameter(net, layer, part, index, array[index] - H), X, T,
                          loss_name)
            g[index] = (up - down) / (2 * H)
        grads[layer, part] = g
    return grads


def assert_fd_close(analytic, numeric, what, backend="numpy"):
    err = np.abs(analytic - numeric) / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)),
                                                  FLOOR)
    k = np.unravel_index(int(np.argmax(err)), err.shape)
    assert err[k] <= RTOL, (f"{backend}: {what} index {list(map(int, k))}: backprop = "
                            f"{analytic[k]!r}, finite difference = {numeric[k]!r}, relative "
                            f"error {err[k]:.3g} > {RTOL:g}")


def far_from_kinks(net, X):
    """True when no relu pre-activation is within reach of the finite-difference step."""
    a = X
    for layer in net:
        z = a @ layer.weights.T + (0 if layer.bias is None else layer.bias)
        if layer.activation == "relu" and np.min(np.abs(z)) < 1e-3:
            return False
        a = {"identity": z, "relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z)),
             "tanh": np.tanh(z)}[layer.activation]
    return True


def draw(seed, depth, activation, n_samples=3):
    """A random network of the given depth whose layers cycle through the activations starting
    at ``activation``, with data, redrawn until relu kinks are out of the step's reach."""
    rng = np.random.default_rng(seed)
    order = list(R.ACTIVATIONS)
    start = order.index(activation)
    activations = order[start:] + order[:start]
    while True:
        n_in = int(rng.integers(1, 4))
        net = random_network(rng, depth, activations, n_in)
        X = rng.normal(size=(n_samples, n_in))
        T = rng.normal(size=(n_samples, net[-1].weights.shape[0]))
        if far_from_kinks(net, X):
            return net, X, T


CASES = list(itertools.product(range(1, 5), R.ACTIVATIONS, R.LOSSES))


@pytest.mark.parametrize(("depth", "activation", "loss_name"), CASES,
                         ids=[f"depth{d}-{a}-{lo}" for d, a, lo in CASES])
def test_exact_gradients_match_finite_differences(depth, activation, loss_name):
    net, X, T = draw(1000 * depth + 10 * R.ACTIVATIONS.index(activation), depth, activation)
    net, T = suited(net, T, loss_name)
    numeric = finite_difference_gradient(net, X, T, loss_name)
    grads = R.gradients(net, X, T, loss_name, "exact")
    for i, layer in enumerate(net):
        assert_fd_close(grads.weights[i], numeric[i, "weights"], f"layer {i} weights")
        if layer.bias is None or not layer.train_bias:
            assert grads.biases[i] is None, f"numpy: layer {i} bias: absent or frozen, got a grad"
        else:
            assert_fd_close(grads.biases[i], numeric[i, "bias"], f"layer {i} bias")


def test_output_error_is_minus_the_loss_gradient():
    """e_L = −∂E/∂a_L for every loss, by finite differences on an identity output layer."""
    rng = np.random.default_rng(7)
    for loss_name in R.LOSSES:
        net = (R.Layer(np.eye(3), None, "identity"),)
        X, T = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
        net, T = suited(net, T, loss_name)
        numeric = finite_difference_gradient((R.Layer(np.eye(3), np.zeros(3), "identity"),),
                                             X, T, loss_name)[0, "bias"]
        error = R.gradients(net, X, T, loss_name).errors[-1]
        # ∂E/∂b sums ∂E/∂a over samples, so compare the summed error.
        assert_fd_close(-error.sum(axis=0), numeric, f"{loss_name} output error")


@pytest.mark.parametrize("form", sorted(losses.FUNCTIONS))
def test_every_output_error_is_minus_the_loss_gradient_by_central_differences(form):
    """e_L = −∂E/∂a_L for every form of every loss, BCELoss on probabilities included, by
    central differences of E in each output a_L (the error and E are separate functions)."""
    rng = np.random.default_rng(11)
    a, T = rng.normal(size=(3, 4)), rng.uniform(size=(3, 4))
    if form.endswith(R.types.ON_PROBABILITIES):
        a = 1 / (1 + np.exp(-a))                    # probabilities, away from 0 and 1
    if form.startswith("cross_entropy"):
        T /= T.sum(axis=-1, keepdims=True)
    value, error = losses.FUNCTIONS[form]
    numeric = np.zeros_like(a)
    for index in np.ndindex(a.shape):
        step = np.zeros_like(a)
        step[index] = H
        numeric[index] = (value(a + step, T) - value(a - step, T)) / (2 * H)
    assert_fd_close(-error(a, T), numeric, f"{form} output error")


@pytest.mark.parametrize("mode", R.MODES)
def test_step_descends_along_finite_difference_gradient(mode):
    """One step is W − η·g: batch from the summed loss, online one sample at a time."""
    net, X, T = draw(42, 3, "tanh", n_samples=4)
    lr = 0.1
    expected = net
    rows = [slice(None)] if mode == "batch" else [slice(i, i + 1) for i in range(len(X))]
    for rows_i in rows:
        numeric = finite_difference_gradient(expected, X[rows_i], T[rows_i], "half_sse")
        expected = tuple(
            R.Layer(lay.weights - lr * numeric[i, "weights"],
                    None if lay.bias is None else
                    lay.bias - lr * numeric[i, "bias"] if lay.train_bias else lay.bias,
                    lay.activation, lay.train_bias)
            for i, lay in enumerate(expected))
    stepped = R.step(net, X, T, "half_sse", lr, "exact", mode)
    for i, (got, want) in enumerate(zip(stepped, expected)):
        # Differences of lr·(g − fd) ≈ 0.1·1e-10: far below 1e-8, far above any wrong update.
        np.testing.assert_allclose(got.weights, want.weights, rtol=0, atol=1e-8,
                                   err_msg=f"numpy {mode} step: layer {i} weights")
        if got.bias is not None:
            np.testing.assert_allclose(got.bias, want.bias, rtol=0, atol=1e-8,
                                       err_msg=f"numpy {mode} step: layer {i} bias")


def test_frozen_bias_stays_put_and_weights_still_learn():
    net = (R.Layer([[0.3, -0.2]], [0.7], "sigmoid", train_bias=False),)
    stepped = R.step(net, [[1.0, 2.0]], [[0.0]], "half_sse", 0.5)
    assert stepped[0].bias.tolist() == [0.7]
    assert not np.array_equal(stepped[0].weights, net[0].weights)


# By hand, independent of every backend: the forward pass with an offset added to one layer's z,
# and the losses' closed forms.
ACTIVATE = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0),
            "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}
LOSS = {"half_sse": lambda a, t: 0.5 * np.sum((t - a) ** 2),
        "sse": lambda a, t: np.sum((t - a) ** 2), "mse": lambda a, t: np.mean((t - a) ** 2),
        # On logits a: −Σ t·log softmax(a) over the samples; −[t log σ(a) + (1 − t) log(1 − σ(a))].
        "cross_entropy_sum": lambda a, t: -np.sum(t * (a - np.log(np.exp(a).sum(1,
                                                                          keepdims=True)))),
        "binary_cross_entropy_sum": lambda a, t: -np.sum(t * np.log(ACTIVATE["sigmoid"](a)) + (
            1 - t) * np.log(1 - ACTIVATE["sigmoid"](a)))}
LOSS["cross_entropy"] = lambda a, t: LOSS["cross_entropy_sum"](a, t) / len(a)
LOSS["binary_cross_entropy"] = lambda a, t: LOSS["binary_cross_entropy_sum"](a, t) / a.size


def loss_with_offset(net, X, T, loss_name, layer, offset):
    """E with ``offset`` added to z of ``layer``: ∂E/∂z_l by central differences."""
    a = X
    for index, lay in enumerate(net):
        z = a @ np.asarray(lay.weights).T + (0 if lay.bias is None else lay.bias)
        a = ACTIVATE[lay.activation](z + offset if index == layer else z)
    return LOSS[loss_name](a, T)


@pytest.mark.parametrize("backend_name", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("loss_name", R.LOSSES)
def test_deltas_are_minus_the_gradient_of_the_loss_with_respect_to_z(backend_name, loss_name):
    """Under the exact rule δ_l = e_l ⊙ f'(z_l) = −∂E/∂z_l, and the loss terms sum to E; z_l is
    a_{l−1}W_lᵀ + b_l, all on every backend against a forward pass written here by hand."""
    from tests.helpers import load_backend

    backend = load_backend(backend_name)
    net, X, T = draw(77, 3, "sigmoid", n_samples=4)        # its output layer is identity
    net, T = suited(net, T, loss_name)
    out = backend.intermediates(net, X, T, loss_name, "exact")
    a = X
    for i, lay in enumerate(net):
        z = a @ lay.weights.T + (0 if lay.bias is None else lay.bias)
        np.testing.assert_allclose(out.pre_activations[i], z, rtol=1e-13, atol=0,
                                   err_msg=f"{backend_name}: pre_activations[layer {i}]")
        a = ACTIVATE[lay.activation](z)
        numeric = np.zeros_like(z)
        for index in np.ndindex(z.shape):
            step = np.zeros_like(z)
            step[index] = H
            numeric[index] = -(loss_with_offset(net, X, T, loss_name, i, step)
                               - loss_with_offset(net, X, T, loss_name, i, -step)) / (2 * H)
        assert_fd_close(out.deltas[i], numeric, f"deltas[layer {i}]", backend_name)
    assert out.loss_terms.shape == T.shape
    np.testing.assert_allclose(out.loss_terms.sum(), LOSS[loss_name](a, T), rtol=1e-14,
                               err_msg=f"{backend_name}: loss_terms_before sum to E")

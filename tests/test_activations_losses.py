"""Activations and losses against closed forms written with Python's math module."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import reference as R
from reference import activations, losses

Z = np.array([-1e4, -800.0, -40.0, -3.5, -1.0, -1e-8, 0.0, 1e-8, 0.5, 2.0, 40.0, 800.0, 1e4])


def closed_sigmoid(z):
    # 1/(1+e^{−z}) written two ways so that math.exp never overflows.
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_large_pre_activations_neither_overflow_nor_warn(dtype):
    z = Z.astype(dtype)
    # Underflow of e^{−|z|} to 0 is the right answer and NumPy is silent about it by default.
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        for name, (f, f_prime) in activations.FUNCTIONS.items():
            values = f(z)
            slopes = f_prime(z, values)
            assert values.dtype == z.dtype and slopes.dtype == z.dtype, name
            assert np.all(np.isfinite(values)) and np.all(np.isfinite(slopes)), name


def test_sigmoid_and_tanh_match_closed_forms():
    want = np.array([closed_sigmoid(z) for z in Z])
    np.testing.assert_allclose(activations.sigmoid(Z), want, rtol=1e-15, atol=0)
    np.testing.assert_allclose(activations.sigmoid_prime(Z, activations.sigmoid(Z)),
                               want * (1 - want), rtol=1e-15, atol=0)
    np.testing.assert_allclose(activations.tanh(Z), [math.tanh(z) for z in Z], rtol=1e-15)
    # tanh' = sech² = 1 / cosh² (0 where cosh would overflow). The code's 1 − a², which PyTorch
    # and JAX compute as well, is exact to eps absolutely: where tanh rounds to ±1 it gives 0
    # for a slope below eps (sech²(40) = 7.2e-35).
    np.testing.assert_allclose(activations.tanh_prime(Z, np.tanh(Z)),
                               [1 / math.cosh(z) ** 2 if abs(z) < 350 else 0.0 for z in Z],
                               rtol=1e-14, atol=np.finfo(float).eps)
    assert activations.sigmoid(np.array([1e4]))[0] == 1.0
    assert activations.sigmoid(np.array([-1e4]))[0] == 0.0


def test_relu_slope_at_zero_is_zero_as_in_torch_and_jax():
    z = np.array([-1.0, 0.0, 2.0])
    assert activations.relu(z).tolist() == [0.0, 0.0, 2.0]
    assert activations.relu_prime(z, activations.relu(z)).tolist() == [0.0, 0.0, 1.0]
    assert activations.identity_prime(z, z).tolist() == [1.0, 1.0, 1.0]


def test_loss_factors_by_hand():
    """outputs [[0.2, 0.7]], targets [[1, 0]]: squared errors 0.64 and 0.49."""
    a, t = np.array([[0.2, 0.7]]), np.array([[1.0, 0.0]])
    assert losses.sse(a, t) == pytest.approx(1.13, rel=1e-15)
    assert losses.half_sse(a, t) == pytest.approx(0.565, rel=1e-15)
    assert losses.mse(a, t) == pytest.approx(0.565, rel=1e-15)   # mean over 2 elements
    np.testing.assert_allclose(losses.half_sse_error(a, t), [[0.8, -0.7]], rtol=1e-15)
    np.testing.assert_allclose(losses.sse_error(a, t), [[1.6, -1.4]], rtol=1e-15)
    np.testing.assert_allclose(losses.mse_error(a, t), [[0.8, -0.7]], rtol=1e-15)


def test_mse_averages_over_every_element():
    a, t = np.zeros((3, 2)), np.ones((3, 2))
    assert losses.mse(a, t) == 1.0 and losses.sse(a, t) == 6.0
    np.testing.assert_allclose(losses.mse_error(a, t), np.full((3, 2), 2 / 6), rtol=1e-15)


def test_float32_is_kept_and_close_to_float64():
    rng = np.random.default_rng(5)
    net = (R.Layer(rng.normal(size=(4, 3)), rng.normal(size=4), "tanh"),
           R.Layer(rng.normal(size=(2, 4)), None, "sigmoid"))
    X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    g64 = R.gradients(net, X, T, "mse", dtype="float64")
    g32 = R.gradients(net, X, T, "mse", dtype="float32")
    for i in range(2):
        assert g32.weights[i].dtype == np.float32
        # float32 carries ~7 digits; a few dozen operations lose at most a digit or two.
        scale = np.abs(g64.weights[i]).max()
        np.testing.assert_allclose(g32.weights[i], g64.weights[i], rtol=0, atol=1e-5 * scale)
    net32, losses32 = R.train(net, X, T, "mse", 0.1, steps=3, dtype="float32")
    assert losses32.dtype == np.float32 and net32[0].weights.dtype == np.float32


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_bad_learning_rate_is_refused(lr):
    net = (R.Layer([[1.0]], None, "identity"),)
    with pytest.raises(ValueError, match="learning rate must be a finite number > 0"):
        R.step(net, [[1.0]], [[0.0]], "half_sse", lr)


def test_unknown_names_are_refused():
    net = (R.Layer([[1.0]], None, "identity"),)
    with pytest.raises(ValueError, match="unknown loss 'l2'"):
        R.loss(net, [[1.0]], [[0.0]], "l2")
    with pytest.raises(ValueError, match="unknown rule"):
        R.gradients(net, [[1.0]], [[0.0]], "sse", "hebbian")
    with pytest.raises(ValueError, match="unknown activation"):
        R.forward((R.Layer([[1.0]], None, "softplus"),), [[1.0]])

"""Softmax cross-entropy and binary cross-entropy: against torch.nn's and optax's own losses,
at saturated logits, against a first step worked in 40-digit arithmetic, and the p − t
cancellation that makes the tutorials' raw_error rule the chain rule at a logit output."""

from __future__ import annotations

import itertools
import warnings

import mpmath
import numpy as np
import pytest

import reference as R
from crosscheck import examples
from reference import losses
from tests.helpers import assert_close, load_backend

BACKENDS = ["numpy", "torch", "jax"]
CLASSIFICATION = ["cross_entropy", "cross_entropy_sum", "binary_cross_entropy",
                  "binary_cross_entropy_sum"]
# Forms and the torch.nn module each one is, with the activation of the output layer it reads.
MODULES = {
    "cross_entropy": ("CrossEntropyLoss", {}, "identity"),
    "cross_entropy_sum": ("CrossEntropyLoss", {"reduction": "sum"}, "identity"),
    "binary_cross_entropy": ("BCEWithLogitsLoss", {}, "identity"),
    "binary_cross_entropy_sum": ("BCEWithLogitsLoss", {"reduction": "sum"}, "identity"),
    "binary_cross_entropy@sigmoid": ("BCELoss", {}, "sigmoid"),
    "binary_cross_entropy_sum@sigmoid": ("BCELoss", {"reduction": "sum"}, "sigmoid"),
}
# float64 results of one formula computed in two orders agree to a few units of rounding of the
# terms (logits of size ~3 here): 1e-14 relative to each array's largest entry.
RTOL = 1e-14


def _data(form, rng, samples=4, outputs=3):
    """Outputs (logits, or probabilities for BCELoss) and targets the loss accepts."""
    a, T = rng.normal(0, 2, size=(samples, outputs)), rng.uniform(size=(samples, outputs))
    if form.endswith("@sigmoid"):
        a = 1 / (1 + np.exp(-a))
    if form.startswith("cross_entropy"):
        T /= T.sum(axis=-1, keepdims=True)
    return a, T


@pytest.mark.parametrize("form", sorted(MODULES))
def test_each_loss_and_its_error_are_torch_nn_modules(form):
    """E and e_L = −∂E/∂a_L of the reference against the torch.nn module with its defaults (or
    reduction="sum"), differentiated by autograd."""
    import torch

    module, options, _ = MODULES[form]
    a, T = _data(form, np.random.default_rng(3))
    outputs = torch.tensor(a, requires_grad=True)
    value = getattr(torch.nn, module)(**options)(outputs, torch.tensor(T))
    (gradient,) = torch.autograd.grad(value, outputs)
    E, error = losses.FUNCTIONS[form]
    assert_close(E(a, T), value.item(), rtol=RTOL, against=f"torch.nn.{module}")
    assert_close(error(a, T), -gradient.numpy(), rtol=RTOL, against=f"torch.nn.{module} grad")


def test_class_labels_are_one_hot_rows_as_torch_reads_class_indices():
    """CrossEntropyLoss given class indices equals the reference given one-hot rows."""
    import torch

    z, labels = np.random.default_rng(4).normal(size=(5, 3)), [2, 0, 1, 1, 2]
    value = torch.nn.CrossEntropyLoss()(torch.tensor(z), torch.tensor(labels))
    assert_close(losses.FUNCTIONS["cross_entropy"][0](z, np.eye(3)[labels]), value.item(),
                 rtol=RTOL, against="CrossEntropyLoss on class indices")


@pytest.mark.parametrize("form", ["cross_entropy", "binary_cross_entropy"])
def test_optax_returns_one_loss_per_example_and_the_mean_is_ours(form):
    """optax's loss per example (softmax) or per element (sigmoid), averaged here, is E."""
    import optax

    import jax_impl  # noqa: F401  (float64 in JAX)

    a, T = _data(form, np.random.default_rng(5))
    each = (optax.softmax_cross_entropy if form == "cross_entropy"
            else optax.sigmoid_binary_cross_entropy)(a, T)
    assert each.shape == (a.shape if form == "binary_cross_entropy" else a.shape[:1])
    assert_close(losses.FUNCTIONS[form][0](a, T), float(each.mean()), rtol=RTOL,
                 against="optax, averaged here")


@pytest.mark.parametrize("dtype", R.DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", sorted(MODULES))
def test_saturated_logits_give_no_nan_and_no_warning(form, backend, dtype):
    """|z| = 1e4 at the output (p rounds to exactly 0 or 1): E, the gradients, the errors and a
    step are finite, with every warning an error; all backends agree on them."""
    loss_name, activation = form.split("@")[0], MODULES[form][2]
    net = (R.Layer([[1e4], [-1e4]], [0.0, 0.0], activation),)
    X, T = [[1.0], [-1.0]], [[1.0, 0.0], [0.0, 1.0]] if "cross" in form else [[1.0, 0.0],
                                                                             [0.3, 1.0]]
    module = load_backend(backend)
    # Underflow of e^{−|z|} to 0 is the right answer, and NumPy is silent about it by default.
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        E = module.loss(net, X, T, loss_name, dtype=dtype)
        grads = module.gradients(net, X, T, loss_name, dtype=dtype)
        after = module.step(net, X, T, loss_name, 0.1, dtype=dtype)
    for what, value in [("loss", E), ("weights gradient", grads.weights[0]),
                        ("output error", grads.errors[0]), ("weights after", after[0].weights)]:
        assert np.all(np.isfinite(value)), f"{backend} {dtype} {form}: {what} = {value}"
    if backend != "numpy":
        want = R.gradients(net, X, T, loss_name, dtype=dtype)
        assert_close(grads.errors[0], want.errors[0], rtol=1e-12 if dtype == "float64" else 1e-5,
                     backend=backend, against="numpy")


def _first_step_by_hand(example):
    """The shipped example's first step in 40-digit arithmetic, from the formulas alone:
    p = softmax(z), δ_2 = (t − p)/n, δ_1 = δ_2 W_2 ⊙ a_1(1 − a_1), ∂E/∂W = −δᵀ a, W − η ∂E/∂W."""
    mpmath.mp.dps = 40
    mp = np.vectorize(mpmath.mpf, otypes=[object])
    x, t = mp(example.inputs), mp(example.targets)
    (W1, b1), (W2, b2) = [(mp(layer.weights), mp(layer.bias)) for layer in example.layers]
    a1 = np.vectorize(lambda z: 1 / (1 + mpmath.exp(-z)), otypes=[object])(x @ W1.T + b1)
    exp = np.vectorize(mpmath.exp, otypes=[object])(a1 @ W2.T + b2)
    p = exp / exp.sum(axis=1, keepdims=True)
    delta2 = (t - p) / len(x)
    delta1 = (delta2 @ W2) * a1 * (1 - a1)
    grads = [(-delta1.T @ x, -delta1.sum(axis=0)), (-delta2.T @ a1, -delta2.sum(axis=0))]
    lr = mpmath.mpf(example.learning_rate)
    after = [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip([(W1, b1), (W2, b2)], grads)]
    as_float = np.vectorize(float)
    return ([tuple(as_float(g) for g in pair) for pair in grads],
            [tuple(as_float(w) for w in pair) for pair in after], as_float(delta2))


@pytest.mark.parametrize("backend", BACKENDS)
def test_shipped_example_first_step_equals_forty_digit_arithmetic(backend):
    """softmax-cross-entropy's gradients, output error and weights after one step, on every
    backend, against the step worked in mpmath from the formulas (independent of all code here)."""
    example = examples.load(examples.find("softmax-cross-entropy"))
    grads, after, output_error = _first_step_by_hand(example)
    module = load_backend(backend)
    args = (example.layers, example.inputs, example.targets, example.loss)
    got = module.gradients(*args)
    stepped = module.step(*args, example.learning_rate)
    assert_close(got.errors[1], output_error, rtol=RTOL, backend=backend, against="mpmath",
                 layer=1)
    for layer, ((gW, gb), (W, b)) in enumerate(zip(grads, after)):
        assert_close(got.weights[layer], gW, rtol=RTOL, backend=backend, against="mpmath",
                     layer=layer)
        assert_close(got.biases[layer], gb, rtol=RTOL, backend=backend, against="mpmath",
                     layer=layer)
        assert_close(stepped[layer].weights, W, rtol=RTOL, backend=backend, against="mpmath",
                     layer=layer)
        assert_close(stepped[layer].bias, b, rtol=RTOL, backend=backend, against="mpmath",
                     layer=layer)


def _network(rng, widths, output):
    return tuple(R.Layer(rng.normal(size=(o, i)), rng.normal(size=o), act)
                 for (i, o), act in zip(itertools.pairwise(widths),
                                        ["sigmoid"] * (len(widths) - 2) + [output]))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss_name", CLASSIFICATION)
def test_at_a_logit_output_raw_error_is_the_chain_rule_for_one_hidden_layer(backend, loss_name):
    """At an identity output f' = 1, so δ_L = e_L and raw_error sends back what exact sends:
    with one hidden layer every gradient is the same. With two, raw_error skips the hidden
    layer's σ' on the way down, and the first layer's gradient differs."""
    rng, module = np.random.default_rng(6), load_backend(backend)
    X, T = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    if loss_name.startswith("cross_entropy"):
        T /= T.sum(axis=-1, keepdims=True)
    net = _network(rng, (3, 4, 2), "identity")
    exact, raw = (module.gradients(net, X, T, loss_name, rule) for rule in ("exact", "raw_error"))
    for layer in range(2):
        assert_close(raw.weights[layer], exact.weights[layer], rtol=RTOL, backend=backend,
                     against="exact", layer=layer)
    deeper = _network(rng, (3, 4, 4, 2), "identity")
    exact, raw = (module.gradients(deeper, X, T, loss_name, rule)
                  for rule in ("exact", "raw_error"))
    assert np.max(np.abs(raw.weights[0] - exact.weights[0])) > 1e-3 * np.max(
        np.abs(exact.weights[0]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_at_a_sigmoid_output_bce_cancels_in_the_delta_but_not_in_raw_error(backend):
    """BCELoss on p = σ(z): e_L = (t − p)/(p(1 − p))/N, δ_L = (t − p)/N; exact sends δ_L W down,
    raw_error sends e_L W, larger by 1/(p(1 − p)) ≥ 4 (one output: a factor per sample)."""
    rng, module = np.random.default_rng(8), load_backend(backend)
    X, T = rng.normal(size=(5, 3)), rng.uniform(size=(5, 1))
    net = _network(rng, (3, 4, 1), "sigmoid")
    p = R.forward(net, X)[-1]
    exact, raw = (module.intermediates(net, X, T, "binary_cross_entropy", rule)
                  for rule in ("exact", "raw_error"))
    assert_close(exact.deltas[1], (T - p) / T.size, rtol=RTOL, backend=backend,
                 against="(t − p)/N", layer=1)
    sent_exact = module.gradients(net, X, T, "binary_cross_entropy", "exact").errors[0]
    sent_raw = module.gradients(net, X, T, "binary_cross_entropy", "raw_error").errors[0]
    assert_close(sent_raw * p * (1 - p), sent_exact, rtol=RTOL, backend=backend,
                 against="exact's error times p(1 − p)", layer=0)
    assert raw.deltas[1].shape == exact.deltas[1].shape


@pytest.mark.parametrize("loss_name", ["cross_entropy", "binary_cross_entropy"])
def test_a_sum_is_the_mean_times_its_count(loss_name):
    """The teaching point of reduction="sum": cross_entropy_sum's gradient is n times
    cross_entropy's (n samples), binary_cross_entropy_sum's N times (N elements)."""
    rng = np.random.default_rng(9)
    net = _network(rng, (3, 4, 2), "identity")
    X, T = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    if loss_name == "cross_entropy":
        T /= T.sum(axis=-1, keepdims=True)
    count = len(X) if loss_name == "cross_entropy" else T.size
    mean, total = (R.gradients(net, X, T, name) for name in (loss_name, f"{loss_name}_sum"))
    for layer in range(2):
        assert_close(total.weights[layer], count * mean.weights[layer], rtol=RTOL,
                     against=f"{count} × {loss_name}", layer=layer)


@pytest.mark.parametrize("dtype", R.DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_bceloss_bounds_each_log_at_minus_100(backend, dtype):
    """torch.nn.BCELoss's documented bound: log p ≥ −100. Outputs saturated at exactly 0 and 1
    (z = ±1e4), targets [[1, 0], [0.3, 1]]: three terms are 0 and the fourth, t = 0.3 against
    p = 0, is −0.3·(−100) = 30; the mean over 4 elements is 7.5, the sum 30."""
    net = (R.Layer([[1e4], [-1e4]], [0.0, 0.0], "sigmoid"),)
    X, T = [[1.0], [-1.0]], [[1.0, 0.0], [0.3, 1.0]]
    module = load_backend(backend)
    for loss_name, want in (("binary_cross_entropy", 7.5), ("binary_cross_entropy_sum", 30.0)):
        got = module.loss(net, X, T, loss_name, dtype=dtype)
        assert_close(got, want, rtol=1e-12 if dtype == "float64" else 1e-6, backend=backend,
                     against="BCELoss's bound, by hand", quantity=f"{loss_name} {dtype}")

"""Every backend exposes the reference's contract: the same names, signatures and refusals."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import reference
from tests.helpers import assert_close, load_backend

NAMES = ["numpy", "torch", "jax"]
FUNCTIONS = ["forward", "loss", "gradients", "step", "train"]


@pytest.mark.parametrize("name", NAMES)
def test_same_names_and_signatures(name):
    backend = load_backend(name)
    assert backend.NAME == name
    # padded_step: the frameworks' only (reference/padded.py), with one signature.
    assert sorted(set(backend.__all__) - {"padded_step"}) == sorted(reference.__all__)
    if name != "numpy":
        assert str(inspect.signature(backend.padded_step)) == \
            "(padded: 'Padded', mode: 'str') -> 'StackedStep'", name
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
    # A bias of one entry would broadcast over both neurons without a word.
    (lambda b: b.forward((NET[0], NET[1]._replace(bias=[0.1])), X),
     r"layer 1: bias of shape \(1,\), expected \(2,\)"),
    (lambda b: b.step(NET, X, T, "sse", 0.0), "learning rate must be a finite number > 0"),
    (lambda b: b.train(NET, X, T, "sse", 0.1, steps=-1), "steps must be a whole number >= 0"),
    (lambda b: b.train(NET, X, T, "sse", 0.1, steps=1.5), "steps must be a whole number >= 0"),
    (lambda b: b.gradients(NET, X, T, "sse", "hebbian"), "unknown rule 'hebbian'"),
    (lambda b: b.gradients(NET, X, T, "sse", "raw_error_new_weights"),
     r"rule 'raw_error_new_weights' .* needs the learning rate \(lr=...\)"),
    (lambda b: b.train(NET, X, T, "sse", 0.1, mode="minibatch"), "unknown mode 'minibatch'"),
    (lambda b: b.train(NET, X, T, "sse", 0.1, optimizer="adam"),
     "optimizer must be a reference.Optimizer, not 'adam'"),
    (lambda b: b.step(NET, X, T, "sse", 0.1, optimizer=reference.Optimizer("lion")),
     "unknown optimizer 'lion': expected one of sgd, adam, adamw, rmsprop"),
    (lambda b: b.step(NET, X, T, "sse", 0.1, optimizer=reference.Optimizer("adam", momentum=0.9)),
     "adam takes no momentum: its settings are betas, eps, weight_decay, amsgrad"),
    # The classification losses read the output layer's values as logits or probabilities.
    (lambda b: b.loss(NET, X, T, "cross_entropy"),
     "loss cross_entropy reads the output layer's values as logits: the softmax is part of the "
     "loss; the output layer's activation must be identity, not sigmoid"),
    (lambda b: b.gradients((NET[0], NET[1]._replace(activation="tanh")), X, T,
                           "binary_cross_entropy"),
     r"loss binary_cross_entropy reads .* as logits \(identity\) or probabilities \(sigmoid\); "
     "the output layer's activation must be identity or sigmoid, not tanh"),
    (lambda b: b.step(NET, X, [[0.0, 1.5], [1.0, 0.0]], "binary_cross_entropy_sum", 0.1),
     r"targets of binary_cross_entropy_sum must lie in \[0, 1\], got 1.5"),
    (lambda b: b.gradients(NET, X, [[-0.5, 1.0], [1.0, 0.0]], "binary_cross_entropy"),
     r"targets of binary_cross_entropy must lie in \[0, 1\], got -0.5"),
    (lambda b: b.train((NET[0], NET[1]._replace(activation="identity")), X,
                       [[0.5, 0.4], [1.0, 0.0]], "cross_entropy", 0.1),
     "targets of cross_entropy must be rows of class probabilities, each summing to 1; a row "
     "sums to 0.9"),
], ids=["targets", "inputs", "bias", "lr", "negative-steps", "fractional-steps", "rule", "rule-lr",
        "mode", "optimizer-type", "optimizer-name", "optimizer-setting", "logits-only",
        "logits-or-probabilities", "binary-targets", "negative-binary-target",
        "class-probabilities"])
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
@pytest.mark.parametrize("row", [[0.1, 0.2, -0.3], [100.1, 200.2, -300.3],
                                 [1000.1, 2000.2, -3000.3]], ids=["0.1", "100.1", "1000.1"])
def test_proportional_within_rounding_of_zero_is_undefined_in_every_dtype(name, dtype, row):
    """0.1 + 0.2 − 0.3 is 5.6e-17 in float64 (and 0 in float32): dividing by it would give
    errors of 1e15, so it is the same undefined split as an exact zero, on every backend.
    "Within rounding" is relative to the weights' size: 100.1 + 200.2 − 300.3 is −5.7e-14 in
    float64 and 1000.1 + 2000.2 − 3000.3 is −2.4e-4 in float32, each under half an ulp of
    Σ|w|, and each as undefined as the small row."""
    net = (NET[0], reference.Layer([row, [0.1, 0.2, 0.3]], None, "sigmoid"))
    net = (reference.Layer(np.eye(3, 2), None, "sigmoid"), net[1])
    message = r"layer 1 neuron 0: .* \(within rounding\)"
    with pytest.raises(reference.RuleUndefined, match=message):
        load_backend(name).gradients(net, X, T, "half_sse", "proportional", dtype)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("ulps", "defined"), [(127, False), (129, True)])
def test_proportional_zero_sum_threshold_is_64_ulps_of_the_weights_size(name, dtype, ulps,
                                                                       defined):
    """The documented threshold, |Σw| ≤ 64·ε·Σ|w| (docs/conventions.md), at its edge. The row
    [1, −(1 − kε)] sums to kε exactly and has Σ|w| = 2 − kε exactly, so the threshold is
    128ε less a hair: k = 127 is within it (undefined) and k = 129 is not (defined, with the
    error split by the closed form e_0 = e_1 (W / Σw) even though Σw is 129ε), in both dtypes
    and on every backend. A threshold of 63 or 65 ulps would put both rows on one side."""
    eps = float(np.finfo(dtype).eps)
    top = np.array([[1.0, -(1.0 - ulps * eps)], [0.5, 0.25]])
    net = (NET[0], reference.Layer(top, None, "sigmoid"))
    backend = load_backend(name)
    if not defined:
        with pytest.raises(reference.RuleUndefined, match="layer 1 neuron 0: "):
            backend.gradients(net, X, T, "half_sse", "proportional", dtype)
        return
    grads = backend.gradients(net, X, T, "half_sse", "proportional", dtype)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))                                     # noqa: E731
    a2 = sigmoid(sigmoid(np.asarray(X) @ np.asarray(NET[0].weights).T) @ top.T)  # by hand
    e0 = (np.asarray(T) - a2) @ (top / top.sum(axis=1, keepdims=True))
    assert_close(grads.errors[0], e0, rtol=1e-12 if dtype == "float64" else 1e-5, backend=name,
                 against="closed form", layer=0, param="errors", quantity=dtype)


@pytest.mark.parametrize("name", NAMES)
def test_proportional_names_the_top_most_layer_and_its_first_zero_neuron(name):
    """Several neurons in several layers sum to zero: the backward pass meets the top layer
    first, and the message names its lowest-numbered such neuron, the same on every backend."""
    net = (reference.Layer(np.eye(3, 2), None, "sigmoid"),
           reference.Layer([[1.0, -1.0, 0.0], [0.5, 0.25, 0.25], [2.0, -1.0, -1.0]], None,
                           "sigmoid"),
           reference.Layer([[0.3, 0.2, 0.1], [0.5, -0.25, -0.25], [1.0, -2.0, 1.0]], None,
                           "identity"))
    targets = [[0.0, 1.0, 0.5], [1.0, 0.0, 0.5]]
    message = "proportional rule: layer 2 neuron 1: "
    with pytest.raises(reference.RuleUndefined, match=message):
        load_backend(name).gradients(net, X, targets, "half_sse", "proportional")
    for mode in reference.MODES:
        with pytest.raises(reference.RuleUndefined, match=message):
            load_backend(name).train(net, X, targets, "half_sse", 0.1, "proportional", mode)


# A 2-2-2 identity network whose second neuron on top has weights [0.75, −0.25] (sum 0.5). On
# x = [1, 1] with targets [1, −0.5] and η = 0.25, worked by hand: a = [1, 0.5], e = t − a =
# [0, −1]; that neuron's weights move by η·e·a_prev = −0.25 each, to [0.5, −0.5]: sum 0.
# Meanwhile its error splits as −1·[0.75, −0.25]/0.5 = [−1.5, 0.5] onto the hidden neurons,
# whose weights move by η·[−1.5, 0.5]ᵀ·x.
RISING = (reference.Layer(np.eye(2), None, "identity"),
          reference.Layer([[0.5, 0.5], [0.75, -0.25]], None, "identity"))
RISING_XT = [[1.0, 1.0]], [[1.0, -0.5]]


@pytest.mark.parametrize("name", NAMES)
def test_proportional_refuses_a_zero_sum_reached_during_training(name):
    """The first step is defined and gives the hand-worked weights; the second would divide by
    the zero sum the first step made, and is refused with the same message on every backend."""
    backend = load_backend(name)
    after = backend.step(RISING, *RISING_XT, "half_sse", 0.25, "proportional")
    assert_close(after[1].weights, [[0.5, 0.5], [0.5, -0.5]], rtol=0, backend=name, layer=1,
                 param="weights", quantity="after one step")
    assert_close(after[0].weights, [[0.625, -0.375], [0.125, 1.125]], rtol=0, backend=name,
                 layer=0, param="weights", quantity="after one step")
    for mode in reference.MODES:
        with pytest.raises(reference.RuleUndefined, match="layer 1 neuron 1: "):
            backend.train(RISING, *RISING_XT, "half_sse", 0.25, "proportional", mode, steps=3)


@pytest.mark.parametrize("name", NAMES)
def test_first_layer_weights_may_sum_to_zero_under_proportional(name):
    """No error is split over the first layer's weights (its input is the data), so a zero row
    sum there is no obstacle: gradients and training are defined, on every backend, and the
    first layer's gradient is −(e_0 ⊙ σ'(z_0))ᵀ X with e_0 split by the layer above's row sums."""
    top = reference.Layer([[0.5, 0.25], [0.1, 0.2]], [0.1, 0.0], "sigmoid")
    net = (NET[0], top)                    # NET[0] = [[0.5, −0.5], [0.2, 0.1]]: row 0 sums to 0
    backend = load_backend(name)
    grads = backend.gradients(net, X, T, "half_sse", "proportional")
    a1, a2 = reference.forward(net, X)
    e1 = np.asarray(T) - a2
    e0 = e1 @ (np.asarray(top.weights) / np.sum(top.weights, axis=1, keepdims=True))
    assert_close(grads.errors[0], e0, rtol=1e-12, backend=name, layer=0, param="errors")
    assert_close(grads.weights[0], -(e0 * a1 * (1 - a1)).T @ np.asarray(X), rtol=1e-12,
                 backend=name, layer=0, param="weights")
    for mode in reference.MODES:
        _, losses = backend.train(net, X, T, "half_sse", 0.1, "proportional", mode, steps=2)
        assert np.isfinite(losses).all(), f"{name} {mode}: losses {losses}"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_proportional_with_all_incoming_weights_zero_is_undefined_too(name, dtype):
    """A neuron whose incoming weights are all 0 sums to exactly 0 as well: 0/0 would give NaN
    errors, so it is the same clear refusal, never a NaN."""
    net = (NET[0], reference.Layer([[0.5, 0.25], [0.0, 0.0]], None, "sigmoid"))
    with pytest.raises(reference.RuleUndefined, match="layer 1 neuron 1: "):
        load_backend(name).gradients(net, X, T, "half_sse", "proportional", dtype)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("row", "defined"), [([0.1, 0.2, -0.3], False),
                                              ([0.1, 0.2, -0.3 + 1e-12], True)],
                         ids=["rounding", "small-sum"])
def test_inputs_with_zero_weight_change_nothing_under_proportional(name, row, defined):
    """Appending inputs whose weights are 0 adds nothing to a neuron's row sum, so neither the
    zero-sum decision nor the shares of its other inputs may change with the layer's width:
    [0.1, 0.2, −0.3] (sum 5.6e-17, under an ulp of Σ|w|) is undefined at width 3 and at width
    300, and [0.1, 0.2, −0.3 + 1e-12] (sum 1e-12, some 7,500 ulps of Σ|w|: not rounding) is
    defined at both, with the same errors on the first three hidden neurons and 0 on the rest."""
    backend = load_backend(name)
    hidden = np.array([[0.5, -0.5], [0.2, 0.1], [0.3, 0.4]])
    top = np.array([row, [0.5, 0.25, 0.25]])
    nets = []
    for width in (3, 300):
        extra = np.random.default_rng(0).normal(size=(width - 3, 2))
        nets.append((reference.Layer(np.vstack([hidden, extra]), None, "sigmoid"),
                     reference.Layer(np.pad(top, ((0, 0), (0, width - 3))), None, "identity")))
    if not defined:
        for net in nets:
            with pytest.raises(reference.RuleUndefined, match="layer 1 neuron 0: "):
                backend.gradients(net, X, T, "half_sse", "proportional")
        return
    narrow, wide = (backend.gradients(net, X, T, "half_sse", "proportional") for net in nets)
    assert_close(wide.errors[0][:, :3], narrow.errors[0], rtol=1e-12, backend=name,
                 against="width 3", layer=0, param="errors", quantity="width 300")
    assert not wide.errors[0][:, 3:].any(), f"{name}: a zero weight got a share of the error"


@pytest.mark.parametrize("name", NAMES)
def test_a_layer_trains_its_bias_unless_told_otherwise(name):
    """Layer(weights, bias, activation) trains its bias: train_bias defaults to true, as in the
    example format. One identity neuron, worked by hand: a = 0.5·1 + 0.25 = 0.75, e = 1 − 0.75
    = 0.25, so ∂E/∂b = ∂E/∂w = −0.25 and a step of η = 1 moves both up by 0.25."""
    layer = reference.Layer([[0.5]], [0.25], "identity")
    backend = load_backend(name)
    grads = backend.gradients((layer,), [[1.0]], [[1.0]], "half_sse")
    assert grads.biases[0] is not None, f"{name}: the bias was held fixed"
    assert_close(grads.biases[0], [-0.25], rtol=0, backend=name, layer=0, param="bias",
                 quantity="gradient")
    (after,) = backend.step((layer,), [[1.0]], [[1.0]], "half_sse", 1.0)
    assert_close(after.bias, [0.5], rtol=0, backend=name, layer=0, param="bias",
                 quantity="after one step")


@pytest.mark.parametrize("name", NAMES)
def test_the_contracts_defaults_are_one_exact_batch_step_in_float64(name):
    """train(net, X, T, loss, lr) is one batch step of the exact rule in float64: the same
    network as step, and one loss, the loss at that network."""
    backend = load_backend(name)
    net, losses = backend.train(NET, X, T, "half_sse", 0.1)
    after = backend.step(NET, X, T, "half_sse", 0.1, "exact", "batch", "float64")
    assert losses.shape == (1,) and losses.dtype == np.float64
    for got, want in zip(net, after):
        assert_close(got.weights, want.weights, rtol=0, backend=name, against="step",
                     param="weights", quantity="train's default")
    assert_close(losses[0], backend.loss(after, X, T, "half_sse"), rtol=1e-15, backend=name,
                 against="loss after step", quantity="train's default")


def test_the_front_refuses_a_network_of_another_depth():
    """A backend's math that returns fewer layers than it was given is refused, not cut."""
    from reference import contract

    @contract.train
    def train(net, X, T, loss_name, lr, rule, mode, steps):
        return net[:1], np.zeros(steps)

    with pytest.raises(ValueError, match="zip"):
        train(NET, X, T, "half_sse", 0.1)


def test_as_network_copies_unless_told_not_to():
    """as_network (in the contract's exports) gives fresh arrays by default, the caller's own
    with copy=False, where the dtype already matches."""
    weights, bias = np.array([[1.0, 2.0]]), np.array([0.5])
    layer = reference.as_network([(weights, bias, "identity")])[0]
    assert not np.shares_memory(layer.weights, weights) and not np.shares_memory(layer.bias,
                                                                                 bias)
    shared = reference.as_network([(weights, bias, "identity")], copy=False)[0]
    assert np.shares_memory(shared.weights, weights) and np.shares_memory(shared.bias, bias)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("steps", [0, 1])
def test_no_trained_network_shares_memory_with_the_callers(name, steps):
    """The contract's promise, where it is easiest to break: a frozen bias (passed through by
    the math), a layer that zero steps leave as it was, and the reference's own new arrays,
    which the front hands back without a copy. Writing into the result leaves the caller's
    network as it was."""
    net = (reference.Layer(np.array([[0.5, -0.5], [0.2, 0.1]]), np.array([0.1, 0.2]), "tanh",
                           train_bias=False),
           reference.Layer(np.array([[0.3, 0.4]]), np.array([0.0]), "identity"))
    before = [(layer.weights.copy(), layer.bias.copy()) for layer in net]
    backend = load_backend(name)
    trained = backend.train(net, X, [[1.0], [0.0]], "half_sse", 0.1, steps=steps)[0]
    stepped = backend.step(net, X, [[1.0], [0.0]], "half_sse", 0.1)
    for result in (trained, stepped):
        for layer in result:
            layer.weights[...] = 7.0
            layer.bias[...] = 7.0
    for layer, (weights, bias) in zip(net, before):
        np.testing.assert_array_equal(layer.weights, weights)
        np.testing.assert_array_equal(layer.bias, bias)


@pytest.mark.parametrize("name", NAMES)
def test_class_probabilities_may_miss_1_by_64_eps_per_class_and_no_more(name):
    """A row of 4 class probabilities may sum to 1 within 64·ε·4 = 2⁻⁴⁴ (float64; powers of two,
    so every sum is exact): 1 + 2⁻⁴⁴ is accepted, 1 + 2⁻⁴³ refused; alone and in a stack of
    networks (2 samples, so that counting samples instead of classes would refuse the first)."""
    net, backend = (reference.Layer(np.ones((4, 2)), None, "identity"),), load_backend(name)
    stack = (net[0]._replace(weights=net[0].weights[None]),)

    def both(off):
        T = np.array([[0.25 + off, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0]])
        backend.gradients(net, X, T, "cross_entropy")
        backend.stacked_step(stack, np.array(X)[None], T[None], "cross_entropy", 0.1)

    both(2.0**-44)
    with pytest.raises(ValueError, match=r"a row sums to 1\.0000000000001137"):
        both(2.0**-43)
